"""The liveness and readiness probes."""

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _broker_ok() -> bool:
    if not settings.REDIS_URL:
        return True  # jobs run in-process (make run)
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
        return bool(client.ping())
    except redis.RedisError:
        return False


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:  # any driver failure means not ready
        return False


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    ready = all(checks.values())
    body = {"status": "ready" if ready else "unavailable", "checks": checks}
    if ready:
        return JsonResponse(body)
    return JsonResponse(
        {
            "type": "urn:leadflow:problem:service-unavailable",
            "title": "Not ready",
            "status": 503,
            "detail": ", ".join(k for k, ok in checks.items() if not ok) + " unavailable",
            **body,
        },
        status=503,
        content_type="application/problem+json",
    )
