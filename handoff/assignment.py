"""Who receives a new handoff: assignment rules (first match wins), else round-robin."""

from __future__ import annotations

from django.db.models import F, QuerySet
from django.utils import timezone

from accounts.choices import MembershipRole
from accounts.models import TeamMembership
from handoff.models import AssignmentRule
from leadflow.choices import Function
from leads.models import Lead
from scoring.reference import fit_matches


def _next_rep(
    memberships: QuerySet[TeamMembership], exclude_user_id: int | None = None
) -> TeamMembership | None:
    """The available rep who has waited longest since their last handoff; the candidates are
    locked, so two concurrent assignments never pick the same "next" rep."""
    candidates = list(
        memberships.filter(role=MembershipRole.REP, is_available=True, user__is_active=True)
        .select_for_update(of=("self",))
        .order_by(F("last_assigned_at").asc(nulls_first=True), "id")
    )
    candidates = [m for m in candidates if m.user_id != exclude_user_id] or candidates
    if not candidates:
        return None
    chosen = candidates[0]
    TeamMembership.objects.filter(pk=chosen.pk).update(last_assigned_at=timezone.now())
    return chosen


def assign(lead: Lead, function: str = Function.SALES) -> tuple[int | None, int | None]:
    """(team_id, rep_user_id) for a lead entering a stage `function` owns (mql: field or inside
    sales, tql: field sales): the first matching rule naming a team or rep of that function, else
    round-robin over the function's reps."""
    members = TeamMembership.objects.filter(team__function=function)
    rules = AssignmentRule.objects.filter(is_active=True).select_related("team")
    for rule in rules.order_by("position", "id"):
        if not fit_matches(rule, lead)[0]:
            continue
        chosen: TeamMembership | None = None
        if rule.rep_id is not None:
            rep_rows = members.filter(user_id=rule.rep_id, role=MembershipRole.REP)
            if not rep_rows.exists():
                continue  # a rep of another function
            chosen = _next_rep(rep_rows)
            if chosen is not None:
                return chosen.team_id, chosen.user_id
            team_ids = list(rep_rows.values_list("team_id", flat=True))
            chosen = _next_rep(TeamMembership.objects.filter(team_id__in=team_ids))
        elif rule.team_id is not None:
            if rule.team is not None and rule.team.function != function:
                continue  # a team of another function
            chosen = _next_rep(TeamMembership.objects.filter(team_id=rule.team_id))
        if chosen is not None:
            return chosen.team_id, chosen.user_id
        if rule.team_id is not None:
            return rule.team_id, None  # the team owns it even with nobody available right now
    chosen = _next_rep(members)
    return (chosen.team_id, chosen.user_id) if chosen else (None, None)


def reassign(*, team_id: int | None, current_user_id: int | None) -> int | None:
    """The next available rep of the team other than the current assignee (or None)."""
    if team_id is None:
        return None
    chosen = _next_rep(
        TeamMembership.objects.filter(team_id=team_id), exclude_user_id=current_user_id
    )
    return chosen.user_id if chosen and chosen.user_id != current_user_id else None
