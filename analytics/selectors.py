"""Role scope of report figures (SPEC §7, §15): a rep their own figures, a manager their teams',
marketing and the COO everything."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from handoff.models import Handoff
from leads import access
from leads.models import Lead

if TYPE_CHECKING:
    from leadflow.types import Caller


def figures_q(user: Caller) -> Q | None:
    """The leads whose figures the user sees; None for all. A rep's are the leads they own or
    were handed (a lead they rejected has left their list, not their figures); a manager's, the
    leads their teams hold or were handed."""
    r = access.reach(user)
    if r.everything:
        return None
    # EXISTS per lead (an index lookup on the handoff's lead), not `IN (handoffs)`: beside an OR,
    # PostgreSQL cannot hash a large `IN` list and would scan it for every lead.
    handed = Handoff.objects.filter(lead_id=OuterRef("pk"))
    q = Q(pk__in=[])
    if r.is_rep:
        q |= Q(owner_id=r.user_id) | Q(Exists(handed.filter(assignee_id=r.user_id)))
    if r.is_manager:
        q |= Q(team_id__in=r.managed_teams) | Q(Exists(handed.filter(team_id__in=r.managed_teams)))
    return q


def lead_scope_sql(user: Caller) -> tuple[str, list[Any]]:
    """An SQL condition on alias `l` (leads) limiting figures to the user's own (`figures_q`)."""
    q = figures_q(user)
    if q is None:
        return "", []
    sql, params = Lead.objects.filter(q).values("pk").query.sql_with_params()
    return f"AND l.id IN ({sql})", list(params)


def report_leads(user: Caller) -> QuerySet[Lead]:
    q = figures_q(user)
    leads: QuerySet[Lead] = Lead.objects.all()
    return leads if q is None else leads.filter(q)


def scoped(qs: QuerySet[Any], user: Caller, *, rep: str, team: str) -> QuerySet[Any]:
    """Rows credited to a rep (`rep`) and a team (`team`) within the user's figures: a rep's
    own, a manager's teams', everyone's for marketing and the COO."""
    r = access.reach(user)
    if r.everything:
        return qs
    q = Q(pk__in=[])
    if r.is_rep:
        q |= Q(**{rep: r.user_id})
    if r.is_manager:
        q |= Q(**{f"{team}__in": r.managed_teams})
    return qs.filter(q)


def report_handoffs(user: Caller) -> QuerySet[Handoff]:
    """The handoffs in the user's figures: a rep's own, a manager's teams', else all."""
    return scoped(Handoff.objects.all(), user, rep="assignee_id", team="team_id")
