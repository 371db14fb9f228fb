"""Abuse: rate limits (atomic, in Redis) with 429 and Retry-After, login lockout, the CSP header,
and a cache outage that must not refuse work."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from accounts.services import api_key_create
from leads.models import Lead
from tests.conftest import requires_postgres, run_parallel

redis_cache = pytest.mark.skipif(
    "redis" not in django_settings.CACHES["default"]["BACKEND"].lower(),
    reason="the limits are counted in Redis (REDIS_URL)",
)


@pytest.fixture(autouse=True)
def _fresh_counters(settings: Any) -> None:
    """Counters of their own per test: windows of an hour outlive a test run in Redis, and
    addresses and key ids repeat between runs."""
    import uuid

    settings.CACHES = {
        "default": {**django_settings.CACHES["default"], "KEY_PREFIX": uuid.uuid4().hex}
    }


def _key_client() -> APIClient:
    _, key = api_key_create(name="abuse")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def _assert_429(r: Any, window: int) -> None:
    assert r.status_code == 429, r.content
    assert r["Content-Type"] == "application/problem+json"
    assert r.json()["status"] == 429
    assert 1 <= int(r["Retry-After"]) <= window


@redis_cache
def test_intake_over_the_limit_is_429_and_writes_nothing(db: Any, settings: Any) -> None:
    settings.RATE_LIMITS = {"intake": "5/h"}  # an hour: no window ends mid-test
    client, other = _key_client(), _key_client()
    statuses = [
        client.post("/api/v1/intake/", {"email": f"r{i}@example.jp"}, format="json")
        for i in range(8)
    ]
    assert [r.status_code for r in statuses] == [201] * 5 + [429] * 3
    _assert_429(statuses[-1], 3600)
    assert Lead.objects.filter(email__startswith="r").count() == 5, "a refused intake wrote nothing"
    # Another client has its own window.
    assert (
        other.post("/api/v1/intake/", {"email": "o@example.jp"}, format="json").status_code == 201
    )


@redis_cache
def test_event_batches_over_the_limit_are_429(db: Any, settings: Any, users: Any) -> None:
    settings.RATE_LIMITS = {"events": "2/s"}
    client = _key_client()
    lead_id = client.post("/api/v1/intake/", {"email": "e@example.jp"}, format="json").json()["id"]
    batch = [{"lead": lead_id, "type": "page_view"}]
    codes = [client.post("/api/v1/events/", batch, format="json").status_code for _ in range(6)]
    assert codes.count(202) <= 2 * 2, "at most two a second (the run may straddle one boundary)"
    assert 429 in codes


@requires_postgres
@redis_cache
@pytest.mark.django_db(transaction=True)
def test_the_count_is_atomic_under_concurrency(settings: Any) -> None:
    settings.RATE_LIMITS = {"intake": "7/h"}
    _, key = api_key_create(name="race")

    def fire(i: int) -> int:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        r = client.post("/api/v1/intake/", {"email": f"c{i}@example.jp"}, format="json")
        return r.status_code

    codes = run_parallel(20, fire)
    assert sorted(codes) == [201] * 7 + [429] * 13
    assert Lead.objects.filter(email__startswith="c").count() == 7


@redis_cache
def test_token_login_is_rate_limited_per_address(db: Any, settings: Any, users: Any) -> None:
    settings.RATE_LIMITS = {"login": "3/h"}
    client = APIClient(REMOTE_ADDR="10.9.0.1")
    body = {"username": "aoki", "password": "pw-rep-a-1"}
    codes = [client.post("/api/v1/auth/token/", body, format="json") for _ in range(4)]
    assert [r.status_code for r in codes] == [200, 200, 200, 429]
    _assert_429(codes[-1], 3600)
    other = APIClient(REMOTE_ADDR="10.9.0.2")
    assert other.post("/api/v1/auth/token/", body, format="json").status_code == 200


def test_repeated_failed_logins_lock_the_username_at_that_address(
    db: Any, settings: Any, users: Any
) -> None:
    client = APIClient(REMOTE_ADDR="10.9.1.1")
    wrong = {"username": "aoki", "password": "not-it"}
    right = {"username": "aoki", "password": "pw-rep-a-1"}
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post("/api/v1/auth/token/", wrong, format="json").status_code == 400
    # The failure that reaches the limit locks the pair out.
    locking = client.post("/api/v1/auth/token/", wrong, format="json")
    _assert_429(locking, int(settings.AXES_COOLOFF_TIME.total_seconds()))
    assert locking.json()["type"].endswith(":login-locked")
    r = client.post("/api/v1/auth/token/", right, format="json")
    _assert_429(r, int(settings.AXES_COOLOFF_TIME.total_seconds()))
    assert r.json()["type"].endswith(":login-locked"), "the same answer as the locking failure"
    assert "token" not in r.json(), "the right password does not get past a lockout"
    # The admin login refuses the same pair too.
    admin = client.post("/admin/login/", {"username": "aoki", "password": "pw-rep-a-1"})
    assert admin.status_code == 429
    assert "_auth_user_id" not in client.session
    # The same user from another address, and another user from this one, are not locked.
    elsewhere = APIClient(REMOTE_ADDR="10.9.1.2")
    assert elsewhere.post("/api/v1/auth/token/", right, format="json").status_code == 200
    abe = {"username": "abe", "password": "pw-rep-a2-1"}
    assert client.post("/api/v1/auth/token/", abe, format="json").status_code == 200


def test_a_success_before_the_limit_resets_the_failures(db: Any, settings: Any, users: Any) -> None:
    client = APIClient(REMOTE_ADDR="10.9.2.1")
    wrong = {"username": "aoki", "password": "not-it"}
    right = {"username": "aoki", "password": "pw-rep-a-1"}
    for _ in range(2):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert client.post("/api/v1/auth/token/", wrong, format="json").status_code == 400
        assert client.post("/api/v1/auth/token/", right, format="json").status_code == 200


def test_an_unreachable_cache_lets_intake_through(db: Any, settings: Any) -> None:
    settings.RATE_LIMITS = {"intake": "1/m"}
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    client = _key_client()
    codes = [
        client.post("/api/v1/intake/", {"email": f"u{i}@example.jp"}, format="json").status_code
        for i in range(3)
    ]
    assert codes == [201, 201, 201], "an outage of the counter store refuses nothing"


@pytest.mark.parametrize("path", ["/", "/api/v1/leads/", "/admin/login/", "/healthz"])
def test_every_response_carries_a_content_security_policy(client: Any, path: str) -> None:
    policy = client.get(path)["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert "unsafe-inline" not in policy


def test_the_api_docs_allow_only_their_inline_style(client: Any) -> None:
    policy = client.get("/api/v1/docs/")["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "script-src 'self'" in policy and "script-src 'self' 'unsafe" not in policy


def test_a_plain_response_gets_the_policy_django_csp_builds(client: Any) -> None:
    from csp.utils import build_policy

    for path in ("/api/v1/leads/", "/healthz", "/login/"):
        r = client.get(path)
        assert r["Content-Security-Policy"] == build_policy(), path
        assert "Content-Security-Policy-Report-Only" not in r


def test_the_policy_still_follows_report_only_and_excluded_paths(settings: Any) -> None:
    from django.test import Client

    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    r = Client().get("/healthz")
    assert r["Content-Security-Policy-Report-Only"] == "default-src 'none'"
    assert "default-src 'self'" in r["Content-Security-Policy"]
    settings.CONTENT_SECURITY_POLICY = {
        **settings.CONTENT_SECURITY_POLICY,
        "EXCLUDE_URL_PREFIXES": ["/healthz"],
    }
    client = Client()
    assert "Content-Security-Policy" not in client.get("/healthz")
    assert "default-src 'self'" in client.get("/login/")["Content-Security-Policy"]


def test_the_web_login_locks_out_with_a_page(db: Any, settings: Any, users: Any) -> None:
    from django.test import Client

    client = Client(REMOTE_ADDR="10.9.2.1")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        r = client.post("/login/", {"username": "aoki", "password": "nope"})
        assert r.status_code == 200 and b"Log in" in r.content
    locked = client.post("/login/", {"username": "aoki", "password": "nope"})
    assert locked.status_code == 429 and b"Too many failed logins" in locked.content
    assert int(locked["Retry-After"]) == int(settings.AXES_COOLOFF_TIME.total_seconds())
    right = client.post("/login/", {"username": "aoki", "password": "pw-rep-a-1"})
    assert right.status_code == 429, "the right password does not get past a lockout"
    assert "_auth_user_id" not in client.session
