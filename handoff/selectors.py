"""Handoff reads, scoped like leads (SPEC §7): a rep sees their own and their team's."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from accounts.selectors import managed_team_ids, rep_team_ids
from handoff.models import AssignmentRule, Handoff, WebhookDelivery, WebhookSubscription
from leadflow.choices import Role
from leadflow.errors import NotFound
from leadflow.permissions import roles_of


def handoff_list(*, user: Any) -> QuerySet[Handoff]:
    qs = Handoff.objects.select_related("lead", "lead__scores", "qualification", "team", "assignee")
    roles = roles_of(user)
    if user.is_superuser or roles & {Role.MARKETING, Role.COO}:
        return qs
    q = Q(pk__in=[])
    if Role.SALES in roles:
        q |= Q(assignee_id=user.pk) | Q(team_id__in=rep_team_ids(user))
    if Role.SALES_MANAGER in roles:
        q |= Q(team_id__in=managed_team_ids(user))
    return qs.filter(q)


def rule_list() -> QuerySet[AssignmentRule]:
    return AssignmentRule.objects.all()


def rule_get(*, rule_id: int) -> AssignmentRule:
    try:
        return AssignmentRule.objects.get(pk=rule_id)
    except (AssignmentRule.DoesNotExist, ValueError) as exc:
        raise NotFound(f"No assignment rule {rule_id}.") from exc


def subscription_get(*, subscription_id: int) -> WebhookSubscription:
    try:
        return WebhookSubscription.objects.get(pk=subscription_id)
    except (WebhookSubscription.DoesNotExist, ValueError) as exc:
        raise NotFound(f"No webhook {subscription_id}.") from exc


def delivery_list(*, subscription: WebhookSubscription) -> QuerySet[WebhookDelivery]:
    return subscription.deliveries.prefetch_related("log").order_by("-created_at", "-id")
