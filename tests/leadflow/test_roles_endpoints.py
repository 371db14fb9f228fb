"""Role × endpoint: exactly the access SPEC §7 grants, for every endpoint of the API."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import Team
from leads.models import Definition
from tests.conftest import definition_document
from tests.factories import make_mql

CALLERS = [
    "marketing",
    "rep_a",
    "manager_a",
    "rep_b",
    "manager_b",
    "coo",
    "intake_key",
    "anonymous",
]
L = "{lead}"  # a team-A MQL assigned to rep_a
D = "{draft}"

# (method, path, body) -> expected status per caller, in CALLERS order.
TABLE: list[tuple[str, str, Any, list[int]]] = [
    (
        "post",
        "/api/v1/intake/",
        {"email": "new@example.jp"},
        [201, 201, 201, 201, 201, 201, 201, 401],
    ),
    (
        "post",
        "/api/v1/events/",
        {"lead": L, "type": "page_view"},
        [202, 202, 202, 202, 202, 202, 202, 401],
    ),
    ("get", "/api/v1/leads/", None, [200, 200, 200, 200, 200, 200, 403, 401]),
    ("get", f"/api/v1/leads/{L}/", None, [200, 200, 200, 404, 404, 200, 403, 401]),
    ("get", f"/api/v1/leads/{L}/timeline/", None, [200, 200, 200, 404, 404, 200, 403, 401]),
    # An activity on the MQL: marketing reads it but does not work it (403), nor does the rep
    # before accepting it; the COO edits every lead.
    (
        "post",
        f"/api/v1/leads/{L}/activities/",
        {"kind": "call", "outcome": "connected"},
        [403, 403, 403, 404, 404, 201, 403, 401],
    ),
    ("get", f"/api/v1/leads/{L}/evaluation/", None, [200, 200, 200, 404, 404, 200, 403, 401]),
    ("patch", f"/api/v1/leads/{L}/", {"title": "CFO"}, [403, 403, 403, 404, 404, 200, 403, 401]),
    (
        "post",
        f"/api/v1/leads/{L}/transitions/reject/",
        {"reason": "icp"},
        [403, 200, 200, 404, 404, 403, 403, 401],
    ),
    (
        "post",
        f"/api/v1/leads/{L}/transitions/archive/",
        {"reason": "spam"},
        [200, 403, 403, 404, 404, 403, 403, 401],
    ),
    ("get", "/api/v1/definitions/", None, [200, 200, 200, 200, 200, 200, 403, 401]),
    ("get", "/api/v1/definitions/schema/", None, [200, 200, 200, 200, 200, 200, 403, 401]),
    ("get", f"/api/v1/definitions/{D}/", None, [200, 200, 200, 200, 200, 200, 403, 401]),
    (
        "post",
        "/api/v1/definitions/",
        {"name": "n", **definition_document()},
        [403, 403, 403, 403, 403, 201, 403, 401],
    ),
    (
        "patch",
        f"/api/v1/definitions/{D}/",
        {"name": "n2"},
        [403, 403, 403, 403, 403, 200, 403, 401],
    ),
    ("post", f"/api/v1/definitions/{D}/publish/", None, [403, 403, 403, 403, 403, 200, 403, 401]),
    ("get", f"/api/v1/leads/{L}/score/", None, [200, 200, 200, 404, 404, 200, 403, 401]),
    (
        "get",
        f"/api/v1/leads/{L}/win-probability/",
        None,
        [200, 200, 200, 404, 404, 200, 403, 401],
    ),
    ("get", "/api/v1/reports/win-model/", None, [403, 403, 403, 403, 403, 200, 403, 401]),
    ("post", "/api/v1/reports/win-model/train/", None, [403, 403, 403, 403, 403, 202, 403, 401]),
    ("get", "/api/v1/scoring-rules/", None, [200, 200, 200, 200, 200, 200, 403, 401]),
    (
        "post",
        "/api/v1/scoring-rules/",
        {"kind": "fit", "name": "n", "points": 2, "field": "title", "operator": "present"},
        [201, 403, 403, 403, 403, 201, 403, 401],
    ),
    (
        "patch",
        "/api/v1/scoring-rules/{rule}/",
        {"points": 4},
        [200, 403, 403, 403, 403, 200, 403, 401],
    ),
    ("delete", "/api/v1/scoring-rules/{rule}/", None, [204, 403, 403, 403, 403, 204, 403, 401]),
    ("post", "/api/v1/scoring/recompute/", None, [202, 403, 403, 403, 403, 202, 403, 401]),
    ("get", "/api/v1/handoffs/", None, [200, 200, 200, 200, 200, 200, 403, 401]),
    (
        "post",
        "/api/v1/handoffs/{handoff}/reassign/",
        {"assignee": "{rep2}"},
        [403, 403, 200, 403, 404, 200, 403, 401],
    ),
    ("get", "/api/v1/assignment-rules/", None, [200, 200, 200, 200, 200, 200, 403, 401]),
    (
        "post",
        "/api/v1/assignment-rules/",
        {"name": "r", "field": "industry", "operator": "equals", "values": ["x"], "rep": "{rep}"},
        [201, 403, 403, 403, 403, 201, 403, 401],
    ),
    ("get", "/api/v1/assignment-rules/{arule}/", None, [200, 200, 200, 200, 200, 200, 403, 401]),
    (
        "patch",
        "/api/v1/assignment-rules/{arule}/",
        {"name": "renamed"},
        [200, 403, 403, 403, 403, 200, 403, 401],
    ),
    (
        "delete",
        "/api/v1/assignment-rules/{arule}/",
        None,
        [204, 403, 403, 403, 403, 204, 403, 401],
    ),
    ("get", "/api/v1/scoring-rules/{rule}/", None, [200, 200, 200, 200, 200, 200, 403, 401]),
    ("get", "/api/v1/jobs/{job}/", None, [200, 404, 404, 404, 404, 200, 403, 401]),
    ("get", "/api/v1/webhooks/", None, [200, 403, 403, 403, 403, 200, 403, 401]),
    ("get", "/api/v1/webhooks/{hook}/", None, [200, 403, 403, 403, 403, 200, 403, 401]),
    ("patch", "/api/v1/webhooks/{hook}/", {"name": "w2"}, [200, 403, 403, 403, 403, 200, 403, 401]),
    ("delete", "/api/v1/webhooks/{hook}/", None, [204, 403, 403, 403, 403, 204, 403, 401]),
    (
        "get",
        "/api/v1/webhooks/{hook}/deliveries/",
        None,
        [200, 403, 403, 403, 403, 200, 403, 401],
    ),
    ("get", "/api/v1/reports/funnel/", None, [200, 200, 200, 200, 200, 200, 403, 401]),
    ("get", "/api/v1/reports/handoffs/", None, [200, 200, 200, 200, 200, 200, 403, 401]),
    ("get", "/api/v1/reports/attribution/", None, [200, 200, 200, 200, 200, 200, 403, 401]),
    ("get", "/api/v1/reports/criteria/", None, [200, 200, 200, 200, 200, 200, 403, 401]),
    ("get", "/api/v1/reports/recycling/", None, [200, 200, 200, 200, 200, 200, 403, 401]),
    ("get", "/api/v1/reports/revenue/", None, [200, 200, 200, 200, 200, 200, 403, 401]),
    ("get", "/api/v1/reports/inside-sales/", None, [200, 200, 200, 200, 200, 200, 403, 401]),
    ("get", "/api/v1/reports/advisor/", None, [200, 200, 200, 200, 200, 200, 403, 401]),
    ("post", f"/api/v1/definitions/{D}/backtest/", {}, [403, 403, 403, 403, 403, 202, 403, 401]),
    (
        "post",
        "/api/v1/webhooks/",
        {"name": "w", "url": "https://h.example.jp/", "secret": "s" * 20, "event_types": ["*"]},
        [201, 403, 403, 403, 403, 201, 403, 401],
    ),
]


def _fill(value: Any, ids: dict[str, int]) -> Any:
    if isinstance(value, str):
        return (
            value.replace(L, str(ids["lead"]))
            .replace(D, str(ids["draft"]))
            .replace("{rule}", str(ids["rule"]))
            .replace("{rep}", str(ids["rep"]))
            .replace("{arule}", str(ids["arule"]))
            .replace("{job}", str(ids["job"]))
            .replace("{hook}", str(ids["hook"]))
            .replace("{handoff}", str(ids["handoff"]))
        )
    if isinstance(value, dict):
        return {
            k: ids["lead"]
            if v == L
            else ids["rep"]
            if v == "{rep}"
            else ids["rep2"]
            if v == "{rep2}"
            else _fill(v, ids)
            for k, v in value.items()
        }
    return value


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"), TABLE, ids=[f"{m} {p}" for m, p, _, _ in TABLE]
)
@pytest.mark.parametrize("caller", CALLERS)
def test_role_endpoint(
    caller: str, method: str, path: str, body: Any, expected: list[int],
    users: dict[str, Any], published_definition: Any, intake_key: str,
) -> None:  # fmt: skip
    lead = make_mql(team=Team.objects.get(name="Team A"), owner=users["rep_a"])
    draft = Definition.objects.create(name="draft", document=definition_document())
    from handoff.models import AssignmentRule, WebhookSubscription
    from leadflow.jobs import job_create
    from scoring.models import ScoringRule

    ids = {
        "lead": lead.pk,
        "draft": draft.pk,
        "rule": ScoringRule.objects.get(event_type="quote_request").pk,
        "rep": users["rep_a"].pk,
        "rep2": users["rep_a2"].pk,
        "handoff": lead.handoffs.get(status="open").pk,
        "arule": AssignmentRule.objects.create(
            name="a", field="industry", operator="equals", values=["x"], rep=users["rep_a"]
        ).pk,
        "job": job_create(kind="score_recompute", actor=users["marketing"]).pk,
        "hook": WebhookSubscription.objects.create(
            name="w", url="https://h.example.jp/", secret="s" * 20, event_types=["*"]
        ).pk,
    }
    client = APIClient()
    if caller == "intake_key":
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {intake_key}")
    elif caller != "anonymous":
        client.force_authenticate(users[caller])
    r = getattr(client, method)(_fill(path, ids), _fill(body, ids), format="json")
    want = expected[CALLERS.index(caller)]
    assert r.status_code == want, (caller, method, path, r.content[:300])
    if want >= 400:
        assert r["Content-Type"] == "application/problem+json"


def test_token_auth(users: dict[str, Any]) -> None:
    anon = APIClient()
    r = anon.post("/api/v1/auth/token/", {"username": "aoki", "password": "wrong"}, format="json")
    assert r.status_code == 400
    r = anon.post(
        "/api/v1/auth/token/", {"username": "aoki", "password": "pw-rep-a-1"}, format="json"
    )
    assert r.status_code == 200
    token = r.json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/leads/").status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert client.get("/api/v1/leads/").status_code == 401


def test_user_without_role_sees_nothing(db: Any) -> None:
    from django.contrib.auth import get_user_model

    nobody = get_user_model().objects.create_user("nobody", password="pw-nobody-1")
    client = APIClient()
    client.force_authenticate(nobody)
    assert client.get("/api/v1/leads/").status_code == 403
    assert client.get("/api/v1/definitions/").status_code == 403


def test_the_table_covers_every_operation_of_the_schema() -> None:
    """Every (path, method) the OpenAPI schema documents has its row; the token login has its
    own test above."""
    import re

    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    documented = {
        (method, path)
        for path, ops in schema["paths"].items()
        for method in ops
        if path != "/api/v1/auth/token/"
    }
    rows = {
        (m, re.sub(r"transitions/[a-z_]+/", "transitions/{}/", re.sub(r"\{[a-z]+\}", "{}", p)))
        for m, p, _, _ in TABLE
    }
    assert {(m, re.sub(r"\{[a-z_]+\}", "{}", p)) for m, p in documented} <= rows


def test_a_revoked_api_key_stops_working_within_the_cache_time(db: Any, settings: Any) -> None:
    from accounts.models import ApiKey
    from accounts.services import api_key_create

    api_key, key = api_key_create(name="to-revoke")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert (
        client.post("/api/v1/intake/", {"email": "r1@example.jp"}, format="json").status_code == 201
    )
    ApiKey.objects.filter(pk=api_key.pk).update(revoked=True)
    cached = client.post("/api/v1/intake/", {"email": "r2@example.jp"}, format="json")
    assert cached.status_code == 201, "trusted for API_KEY_CACHE_SECONDS after its check"
    settings.API_KEY_CACHE_SECONDS = 0
    api_key2, key2 = api_key_create(name="revoked-at-once")
    ApiKey.objects.filter(pk=api_key2.pk).update(revoked=True)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key2}")
    assert (
        client.post("/api/v1/intake/", {"email": "r3@example.jp"}, format="json").status_code == 401
    )
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    import accounts.auth

    accounts.auth._cache.clear()  # what the cache time's end does
    assert (
        client.post("/api/v1/intake/", {"email": "r4@example.jp"}, format="json").status_code == 401
    )
