"""What each role finds in the web UI: its navigation and its home page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext_lazy as _

from leads.access import Can, may

if TYPE_CHECKING:
    from leadflow.types import Caller

# (url name, label, what it needs)
NAV: list[tuple[str, Any, Can]] = [
    ("web:dashboard", _("Dashboard"), Can.READ),
    ("web:inbox", _("Inbox"), Can.ANSWER_HANDOFFS),
    ("web:pipeline", _("My pipeline"), Can.KEEP_PIPELINE),
    ("web:lead-list", _("Leads"), Can.READ),
    ("web:inside-sales-report", _("Inside sales"), Can.READ_IS_REPORT),
    ("web:definition-list", _("Definitions"), Can.READ),
    ("web:advisor", _("Advisor"), Can.READ),
    ("web:scoring-rules", _("Scoring"), Can.READ),
    ("web:webform-list", _("Web forms"), Can.MANAGE_INTAKE),
    ("web:webhook-list", _("Webhooks"), Can.MANAGE_INTAKE),
    ("web:import-new", _("Import"), Can.MANAGE_INTAKE),
]


def nav_for(user: Caller) -> list[tuple[str, Any]]:
    return [(name, label) for name, label, can in NAV if may(user, can)]


def home_for(user: Caller) -> str:
    if may(user, Can.DEFINE):
        return "web:dashboard"
    if may(user, Can.ANSWER_HANDOFFS):
        return "web:inbox"
    return "web:lead-list"


View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def requires(can: Can) -> Callable[[View], View]:
    """A signed-in user whose role may `can` (`leads.access`); else 403 (the login page when
    signed out)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            from django.contrib.auth.views import redirect_to_login

            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not may(request.user, can):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return cast(View, wrapped)

    return decorate
