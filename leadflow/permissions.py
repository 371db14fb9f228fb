"""Role checks shared by every app. Roles are memberships of the Django groups in `Role`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from leadflow.choices import Role

if TYPE_CHECKING:
    from rest_framework.views import APIView


def roles_of(user: Any) -> frozenset[str]:
    """The user's roles, cached on the user object for the request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_leadflow_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            names |= {r.value for r in Role}
        cached = frozenset(n for n in names if n in Role.values)
        user._leadflow_roles = cached
    return cached


def has_role(user: Any, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


class DenyAll(BasePermission):
    """The default: a view that forgot to declare its permission is closed."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return False


def role_permission(*roles: str) -> type[BasePermission]:
    """A permission class that admits users holding any of `roles`."""

    class _HasRole(BasePermission):
        message = f"This needs one of the roles: {', '.join(roles)}."

        def has_permission(self, request: Request, view: APIView) -> bool:
            return has_role(request.user, *roles)

    _HasRole.__name__ = "HasRole_" + "_".join(roles)
    return _HasRole


AnyRole = role_permission(*Role.values)
