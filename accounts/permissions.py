"""Permissions for machine clients."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.choices import ApiKeyScope
from accounts.models import ApiKey

if TYPE_CHECKING:
    from rest_framework.views import APIView


def api_key_of(request: Request) -> ApiKey | None:
    return request.auth if isinstance(request.auth, ApiKey) else None


class HasIntakeKey(BasePermission):
    """An API key with scope `intake`."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        key = api_key_of(request)
        return key is not None and key.scope == ApiKeyScope.INTAKE
