"""Reads about teams and the people in them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from accounts.choices import MembershipRole
from accounts.models import Team, TeamMembership

if TYPE_CHECKING:
    from leadflow.types import Caller


def team_ids_of(user: Caller | None, *, role: str | None = None) -> frozenset[int]:
    """The teams the user belongs to (as rep or manager, or only `role`); cached per request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    cache: dict[str | None, frozenset[int]] = user.__dict__.setdefault("_leadflow_teams", {})
    if role not in cache:
        qs = TeamMembership.objects.filter(user_id=user.pk or 0)
        if role:
            qs = qs.filter(role=role)
        cache[role] = frozenset(qs.values_list("team_id", flat=True))
    return cache[role]


def inside_sales_team_ids() -> frozenset[int]:
    """The teams of inside sales (SPEC §13)."""
    from leadflow.choices import Function

    return frozenset(
        Team.objects.filter(function=Function.INSIDE_SALES).values_list("pk", flat=True)
    )


def managed_team_ids(user: Caller | None) -> frozenset[int]:
    return team_ids_of(user, role=MembershipRole.MANAGER)


def rep_team_ids(user: Caller | None) -> frozenset[int]:
    return team_ids_of(user, role=MembershipRole.REP)


def team_manager_list(*, team_id: int) -> QuerySet[Any]:
    return get_user_model().objects.filter(
        team_memberships__team_id=team_id, team_memberships__role=MembershipRole.MANAGER
    )


def inside_sales_member(user: Caller | None) -> bool:
    """Whether the user is a rep or a manager of an inside-sales team."""
    from leadflow.choices import Function

    if user is None or not user.is_authenticated:
        return False
    return TeamMembership.objects.filter(
        user_id=user.pk, team__function=Function.INSIDE_SALES
    ).exists()
