"""Handoff reads, scoped like leads (SPEC §7): a rep sees their own and their team's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from handoff.models import AssignmentRule, Handoff, WebhookDelivery, WebhookSubscription
from leadflow.errors import NotFound
from leads import access

if TYPE_CHECKING:
    from leadflow.types import Caller


def handoff_list(*, user: Caller) -> QuerySet[Handoff]:
    qs = Handoff.objects.select_related("lead", "lead__scores", "qualification", "team", "assignee")
    q = access.scope_q(user, owner="assignee_id", team="team_id")
    return qs if q is None else qs.filter(q)


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
