"""Roles and what each may use whatever the lead (SPEC §7). Roles are memberships of the Django
groups in `Role`. The rules that depend on a lead (reading it, writing its fields, running its
transitions) are in `leads.access`, which re-exports these: callers ask that one module."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from django.http import HttpRequest
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from leadflow.choices import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from rest_framework.views import APIView

    from leadflow.types import Caller


def user_of(request: HttpRequest | Request) -> User:
    """The signed-in user of a request its view's permission admitted (an API key's request
    has none: 401)."""
    from django.contrib.auth.models import User

    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated
    return user


def roles_of(user: Caller | None) -> frozenset[str]:
    """The user's roles, cached on the user object for the request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    cached: frozenset[str] | None = getattr(user, "_leadflow_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            names |= {r.value for r in Role}
        cached = frozenset(n for n in names if n in Role.values)
        user.__dict__["_leadflow_roles"] = cached
    return cached


class DenyAll(BasePermission):
    """The default: a view that forgot to declare its permission is closed."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return False


# --- what a role may use, whatever the lead ---------------------------------------------------


class Can(StrEnum):
    """What a role may use, beyond reading within its scope (the rows of SPEC §7's table that
    do not depend on a lead)."""

    READ = "read"  # leads, rules, definitions, figures: each within the role's reach
    EDIT_RULES = "edit_rules"  # scoring rules and their recompute
    MANAGE_INTAKE = "manage_intake"  # web forms, webhooks, assignment rules, CSV imports
    DEFINE = "define"  # definitions: edit, publish, backtest
    ARCHIVE = "archive"  # marketing's own transitions: archive, recycle a lost lead
    OVERRIDE = "override"  # qualify past failing criteria, with a note
    ANSWER_HANDOFFS = "answer_handoffs"  # the inbox
    KEEP_PIPELINE = "keep_pipeline"  # "my pipeline": the TALs, SALs and SQLs one works
    READ_IS_REPORT = "read_is_report"  # the inside-sales report page
    MANAGE_TEAMS = "manage_teams"  # re-assign a handoff, the team inbox
    SEE_ALL_JOBS = "see_all_jobs"  # every user's background jobs


GRANTS: dict[Can, frozenset[str]] = {
    Can.READ: frozenset(Role.values),
    Can.EDIT_RULES: frozenset({Role.MARKETING, Role.COO}),
    Can.MANAGE_INTAKE: frozenset({Role.MARKETING, Role.COO}),
    Can.DEFINE: frozenset({Role.COO}),
    Can.ARCHIVE: frozenset({Role.MARKETING}),
    Can.OVERRIDE: frozenset({Role.COO}),
    Can.ANSWER_HANDOFFS: frozenset({Role.SALES, Role.INSIDE_SALES, Role.SALES_MANAGER, Role.COO}),
    Can.KEEP_PIPELINE: frozenset({Role.SALES, Role.INSIDE_SALES, Role.SALES_MANAGER}),
    Can.READ_IS_REPORT: frozenset(
        {Role.INSIDE_SALES, Role.SALES_MANAGER, Role.MARKETING, Role.COO}
    ),
    Can.MANAGE_TEAMS: frozenset({Role.SALES_MANAGER, Role.COO}),
    Can.SEE_ALL_JOBS: frozenset({Role.COO}),
}


def may(user: Caller, can: Can) -> bool:
    """Whether the user holds a role granted `can` (superusers hold every role)."""
    return bool(roles_of(user) & GRANTS[can])


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def permission(write: Can, *, read: Can | None = None) -> type[BasePermission]:
    """A DRF permission: reads (GET, HEAD, OPTIONS) need `read` when given, everything else
    `write`; without `read`, every method needs `write`."""

    class _May(BasePermission):
        message = f"Your role may not do this ({write.value})."

        def has_permission(self, request: Request, view: APIView) -> bool:
            needed = read if read is not None and request.method in SAFE_METHODS else write
            return may(request.user, needed)

    _May.__name__ = f"May_{write.value}" + (f"_{read.value}" if read is not None else "")
    return _May
