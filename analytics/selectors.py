"""Role scope of report figures (SPEC §7, §15): a rep their own figures, a manager their teams',
marketing and the COO everything."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from accounts.selectors import managed_team_ids
from handoff.models import Handoff
from leadflow.choices import Role
from leadflow.permissions import roles_of
from leads.models import Lead


def figures_q(user: Any) -> Q | None:
    """The leads whose figures the user sees; None for all. A rep's are the leads they own or
    were handed (a lead they rejected has left their list, not their figures); a manager's, the
    leads their teams hold or were handed."""
    roles = roles_of(user)
    if user.is_superuser or roles & {Role.MARKETING, Role.COO}:
        return None
    q = Q(pk__in=[])
    if Role.SALES in roles:
        q |= Q(owner_id=user.pk) | Q(
            pk__in=Handoff.objects.filter(assignee_id=user.pk).values("lead_id")
        )
    if Role.SALES_MANAGER in roles:
        teams = managed_team_ids(user)
        q |= Q(team_id__in=teams) | Q(
            pk__in=Handoff.objects.filter(team_id__in=teams).values("lead_id")
        )
    return q


def lead_scope_sql(user: Any) -> tuple[str, list[Any]]:
    """An SQL condition on alias `l` (leads) limiting figures to the user's own (`figures_q`)."""
    q = figures_q(user)
    if q is None:
        return "", []
    sql, params = Lead.objects.filter(q).values("pk").query.sql_with_params()
    return f"AND l.id IN ({sql})", list(params)


def report_leads(user: Any) -> QuerySet[Lead]:
    q = figures_q(user)
    leads: QuerySet[Lead] = Lead.objects.all()
    return leads if q is None else leads.filter(q)


def report_handoffs(user: Any) -> QuerySet[Handoff]:
    """The handoffs in the user's figures: a rep's own, a manager's teams', else all."""
    roles = roles_of(user)
    qs = Handoff.objects.all()
    if user.is_superuser or roles & {Role.MARKETING, Role.COO}:
        return qs
    q = Q(pk__in=[])
    if Role.SALES in roles:
        q |= Q(assignee_id=user.pk)
    if Role.SALES_MANAGER in roles:
        q |= Q(team_id__in=managed_team_ids(user))
    return qs.filter(q)
