"""Rate limits: fixed windows counted atomically in the cache (Redis `INCR`, through
django-ratelimit), per client: the API key, else the user, else the address.

Over the limit a request gets 429 problem+json with `Retry-After` (the seconds left in the
window). If the cache itself is unreachable the request is let through and the outage logged:
a Redis outage must delay work, not refuse what would have been accepted."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django_ratelimit.core import get_usage
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)


def client_key(group: str, request: Any) -> str:
    auth = getattr(request, "auth", None)
    if auth is not None and hasattr(auth, "prefix"):  # an API key
        return f"key:{auth.pk}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{request.META.get('REMOTE_ADDR', '')}"


def rate_limit_hit(request: Any, scope: str) -> int | None:
    """Count one request of `scope`; the seconds to wait if it is over the limit, else None."""
    rate = settings.RATE_LIMITS.get(scope)
    if not rate:
        return None
    try:
        usage = get_usage(
            request, group=f"leadflow.{scope}", key=client_key, rate=rate, increment=True
        )
    except Exception:
        logger.warning("rate limit store unavailable; %s is not limited", scope, exc_info=True)
        return None
    if usage is None or not usage["should_limit"]:
        return None
    return max(1, int(usage["time_left"]))


class RateLimit(BaseThrottle):
    scope = ""

    def allow_request(self, request: Request, view: Any) -> bool:
        self._wait = rate_limit_hit(request, self.scope)
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait


class IntakeRateLimit(RateLimit):
    scope = "intake"


class EventsRateLimit(RateLimit):
    scope = "events"


class LoginRateLimit(RateLimit):
    scope = "login"
