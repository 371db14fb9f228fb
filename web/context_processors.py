from typing import Any

from django.conf import settings
from django.http import HttpRequest

from leadflow.permissions import roles_of
from web.roles import nav_for


def ui(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": [], "roles": frozenset(), **_common()}
    return {"nav": nav_for(user), "roles": roles_of(user), **_common()}


def _common() -> dict[str, Any]:
    return {"CURRENCY": settings.CURRENCY, "TIME_ZONE": settings.TIME_ZONE}
