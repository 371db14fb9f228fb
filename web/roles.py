"""What each role finds in the web UI: its navigation and its home page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext_lazy as _

from leadflow.choices import Role
from leadflow.permissions import roles_of

R = Role
# (url name, label, roles that see it)
NAV: list[tuple[str, Any, set[str]]] = [
    ("web:dashboard", _("Dashboard"), {R.COO, R.MARKETING, R.SALES, R.SALES_MANAGER}),
    ("web:inbox", _("Inbox"), {R.SALES, R.SALES_MANAGER, R.COO}),
    ("web:pipeline", _("My pipeline"), {R.SALES, R.SALES_MANAGER}),
    ("web:lead-list", _("Leads"), {R.COO, R.MARKETING, R.SALES, R.SALES_MANAGER}),
    ("web:definition-list", _("Definitions"), {R.COO, R.MARKETING, R.SALES, R.SALES_MANAGER}),
    ("web:scoring-rules", _("Scoring"), {R.COO, R.MARKETING, R.SALES, R.SALES_MANAGER}),
    ("web:webform-list", _("Web forms"), {R.COO, R.MARKETING}),
    ("web:webhook-list", _("Webhooks"), {R.COO, R.MARKETING}),
    ("web:import-new", _("Import"), {R.COO, R.MARKETING}),
]


def nav_for(user: Any) -> list[tuple[str, Any]]:
    roles = roles_of(user)
    return [(name, label) for name, label, who in NAV if roles & who]


def home_for(user: Any) -> str:
    roles = roles_of(user)
    if R.COO in roles:
        return "web:dashboard"
    if roles & {R.SALES, R.SALES_MANAGER}:
        return "web:inbox"
    return "web:lead-list"


View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def role_required(*roles: str) -> Callable[[View], View]:
    """A signed-in user holding one of `roles` (any role when none are named); else 403."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            from django.contrib.auth.views import redirect_to_login

            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            held = roles_of(request.user)
            if not held or (roles and not held & set(roles)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return cast(View, wrapped)

    return decorate
