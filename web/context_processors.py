from typing import Any

from django.conf import settings
from django.http import HttpRequest

from web.roles import nav_for


def ui(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": [], **_common()}
    return {"nav": nav_for(user), **_common()}


def _common() -> dict[str, Any]:
    return {"CURRENCY": settings.CURRENCY, "TIME_ZONE": settings.TIME_ZONE}
