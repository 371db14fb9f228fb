"""`Authorization: Api-Key <key>` for machine clients (djangorestframework-api-key)."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from rest_framework import exceptions
from rest_framework.authentication import (
    BaseAuthentication,
    TokenAuthentication,
    get_authorization_header,
)
from rest_framework.request import Request

from accounts.models import ApiKey

# Verified keys, per process, for API_KEY_CACHE_SECONDS: a busy form or integration would
# otherwise cost a query and a hash per request. A revoked key stops working within that time.
_cache: dict[str, tuple[float, ApiKey]] = {}
_lock = threading.Lock()


def _verified(key: str) -> ApiKey | None:
    digest = hashlib.sha256(key.encode()).hexdigest()
    now = time.monotonic()
    hit = _cache.get(digest)
    if hit is not None and hit[0] > now:
        return hit[1]
    try:
        api_key = cast(ApiKey, ApiKey.objects.get_from_key(key))
    except ApiKey.DoesNotExist:
        return None
    if api_key.revoked:
        return None
    with _lock:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[digest] = (now + settings.API_KEY_CACHE_SECONDS, api_key)
    return api_key


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Use 'Authorization: Api-Key <key>'.")
        try:
            key = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("The API key is not valid.") from exc
        api_key = _verified(key)
        if api_key is None:
            raise exceptions.AuthenticationFailed("The API key is not valid.")
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed("The API key has expired.")
        return AnonymousUser(), api_key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, valid for `API_TOKEN_TTL_HOURS` after it was issued; a
    user's tokens are also dropped when the password changes or the account is deactivated
    (`accounts.services.tokens_rotate_on_credentials`)."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        from django.utils import timezone

        user, token = super().authenticate_credentials(key)
        if token.created < timezone.now() - timedelta(hours=settings.API_TOKEN_TTL_HOURS):
            token.delete()
            raise exceptions.AuthenticationFailed("The token has expired; log in again.")
        return user, token
