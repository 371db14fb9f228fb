"""Rate limits: fixed windows counted atomically in the cache, per client: the API key, else the
user, else the address. On Redis one pipelined `INCR` + `EXPIRE NX` per request; any other cache
(local memory in development) counts through django-ratelimit.

Over the limit a request gets 429 problem+json with `Retry-After` (the seconds left in the
window). If the cache itself is unreachable the request is let through and the outage logged:
a Redis outage must delay work, not refuse what would have been accepted."""

from __future__ import annotations

import logging
import re
import time
import zlib
from functools import lru_cache
from typing import Any

import redis
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django_ratelimit.core import get_usage
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from leadflow.clientip import client_ip

logger = logging.getLogger(__name__)


def client_key(group: str, request: Any) -> str:
    auth = getattr(request, "auth", None)
    if auth is not None and hasattr(auth, "prefix"):  # an API key
        return f"key:{auth.pk}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_ip(request)}"


PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE = re.compile(r"^(\d+)/(\d*)([smhd])$")


@lru_cache(maxsize=4)
def _redis(location: str) -> redis.Redis:
    """A client of the cache's Redis server, from its URL (redis-py's own pool, which renews
    its connections in a forked worker), not the cache backend's private one."""
    return redis.Redis.from_url(location, socket_connect_timeout=1, socket_timeout=1)


def _redis_count(cache: RedisCache, scope: str, client: str, limit: int, period: int) -> int | None:
    """One round trip to Redis: INCR the window's counter and give it its expiry. The window
    of each client starts at its own offset (as django-ratelimit's do), so windows do not all
    turn over at once. Returns the seconds to wait, or None if under the limit."""
    key = f"leadflow.rl:{scope}:{client}"
    now = time.time()
    offset = zlib.crc32(key.encode()) % period
    window_end = (int(now - offset) // period + 1) * period + offset
    redis_key = cache.make_key(f"{key}:{window_end}")
    pipe = _redis(settings.CACHES[settings.RATELIMIT_USE_CACHE]["LOCATION"]).pipeline(
        transaction=False
    )
    pipe.incr(redis_key)
    pipe.expire(redis_key, period + 5, nx=True)
    count = pipe.execute()[0]
    return max(1, int(window_end - now)) if count > limit else None


def rate_limit_hit(request: Any, scope: str) -> int | None:
    """Count one request of `scope`; the seconds to wait if it is over the limit, else None."""
    rate = settings.RATE_LIMITS.get(scope)
    if not rate:
        return None
    try:
        cache = caches[settings.RATELIMIT_USE_CACHE]
        parsed = RATE.match(rate)
        if isinstance(cache, RedisCache) and parsed:
            limit, count, unit = parsed.groups()
            period = int(count or 1) * PERIODS[unit]
            return _redis_count(cache, scope, client_key(scope, request), int(limit), period)
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
