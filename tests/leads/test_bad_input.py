"""Every bad-input class of SPEC §9: a clear problem+json 4xx, never a 500, never a write."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings

from leads.models import Definition, Event, IdempotencyRecord, Lead, LeadTransition
from tests.factories import make_lead


def nothing_written(before: dict[str, int]) -> None:
    assert counts() == before


def counts() -> dict[str, int]:
    return {
        m.__name__: m.objects.count()
        for m in (Lead, Event, LeadTransition, Definition, IdempotencyRecord)
    }


def assert_problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.content
    assert r["Content-Type"] == "application/problem+json"
    body = json.loads(r.content)
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    return body


BODIES = {
    "malformed JSON": b'{"email": "a@example.jp",',
    "not JSON at all": b"\xff\xfe\x00garbage",
    "top-level list": b'[{"email": "a@example.jp"}]',
    "top-level string": b'"a@example.jp"',
    "wrong type": b'{"email": "a@example.jp", "company_size": "many"}',
    "wrong type nested": b'{"email": "a@example.jp", "attributes": [1, 2]}',
    "unknown field": b'{"email": "a@example.jp", "favourite_colour": "blue"}',
    "state written": b'{"email": "a@example.jp", "state": "won"}',
    "NUL in a string": b'{"email": "a@example.jp", "company": "Ac\\u0000me"}',
    "NUL in a JSON key": b'{"email": "a@example.jp", "attributes": {"k\\u0000": 1}}',
    "NUL in a JSON value": b'{"email": "a@example.jp", "attributes": {"k": "v\\u0000"}}',
    "too long": json.dumps({"email": "a@example.jp", "company": "x" * 201}).encode(),
    "bad event inside intake": b'{"email": "a@example.jp", "events": [{"type": 5}]}',
    "missing email": b'{"company": "Acme"}',
    "boolean as email": b'{"email": true}',
}


@pytest.mark.parametrize("name", list(BODIES))
def test_intake_bad_body(name: str, key_client: Any, db: Any) -> None:
    before = counts()
    r = key_client.post(
        "/api/v1/intake/",
        BODIES[name],
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=f"k-{name}",
    )
    body = assert_problem(r, 400)
    assert body["detail"]
    if name not in ("malformed JSON", "not JSON at all"):
        assert body["errors"], body
        assert all({"field", "message", "code"} == set(e) for e in body["errors"])
    nothing_written(before)


def test_unknown_field_error_points_at_the_field(key_client: Any, db: Any) -> None:
    r = key_client.post("/api/v1/intake/", BODIES["state written"], content_type="application/json")
    body = assert_problem(r, 400)
    assert body["errors"][0]["field"] == "state"
    assert "transition" in body["errors"][0]["message"]


def test_oversized_body_is_413(key_client: Any, db: Any) -> None:
    before = counts()
    big = json.dumps({"email": "a@example.jp", "need": "x" * (settings.MAX_REQUEST_BODY_BYTES + 1)})
    r = key_client.post("/api/v1/intake/", big, content_type="application/json")
    assert_problem(r, 413)
    nothing_written(before)


def test_wrong_content_type_is_415(key_client: Any, db: Any) -> None:
    before = counts()
    r = key_client.post("/api/v1/intake/", "email=a@example.jp", content_type="text/plain")
    assert_problem(r, 415)
    nothing_written(before)


def test_events_bad_bodies(key_client: Any, db: Any) -> None:
    make_lead(email="e@example.jp")
    before = counts()
    for raw in (
        b"{",
        b"42",
        b'{"email": "e@example.jp", "type": "page_view", "properties": {"a": "\\u0000"}}',
    ):
        r = key_client.post("/api/v1/events/", raw, content_type="application/json")
        if r.status_code == 202:
            assert r.json()["accepted"] == 0 and r.json()["rejected"]
        else:
            assert_problem(r, 400)
    nothing_written(before)


def test_patch_bad_bodies(client_for: Any, users: Any) -> None:
    lead = make_lead()
    before = counts()
    client = client_for("marketing")
    for raw in (
        b"{",
        b'{"state": "won"}',
        b'{"score": 100}',
        b'{"company_size": -1}',
        b'{"owner": 1}',
    ):
        r = client.patch(f"/api/v1/leads/{lead.pk}/", raw, content_type="application/json")
        assert_problem(r, 400)
    nothing_written(before)
    assert Lead.objects.get(pk=lead.pk).state == "lead"


def test_transition_bad_bodies(client_for: Any, users: Any, published_definition: Any) -> None:
    lead = make_lead()
    before = counts()
    client = client_for("marketing")
    for raw in (
        b"{",
        b'{"reason": 5}',
        b'{"amount": "lots"}',
        b'{"override": "maybe"}',
        b'{"colour": 1}',
    ):
        r = client.post(
            f"/api/v1/leads/{lead.pk}/transitions/archive/", raw, content_type="application/json"
        )
        assert_problem(r, 400)
    nothing_written(before)


def test_definition_bad_bodies(client_for: Any, users: Any) -> None:
    before = counts()
    client = client_for("coo")
    for raw in (
        b"{",
        b'{"name": "x"}',
        b'{"name": "x", "stages": []}',
        b'{"name": "x", "stages": {}, "extra": 1}',
    ):
        r = client.post("/api/v1/definitions/", raw, content_type="application/json")
        assert_problem(r, 400)
    nothing_written(before)


def test_unknown_url_and_bad_ids_are_problem_404(client_for: Any, users: Any) -> None:
    client = client_for("marketing")
    for url in ("/api/v1/nope/", "/api/v1/leads/999999/", "/api/v1/leads/1/transitions/teleport/"):
        r = client.get(url) if "transitions" not in url else client.post(url, {}, format="json")
        assert_problem(r, 404)


def test_method_not_allowed_is_problem_405(client_for: Any, users: Any) -> None:
    r = client_for("marketing").delete("/api/v1/leads/")
    assert_problem(r, 405)


def test_unauthenticated_is_problem_401(db: Any) -> None:
    from rest_framework.test import APIClient

    r = APIClient().get("/api/v1/leads/")
    assert_problem(r, 401)
    r = APIClient().post(
        "/api/v1/intake/",
        {"email": "a@example.jp"},
        format="json",
        HTTP_AUTHORIZATION="Api-Key nope.nope",
    )
    assert_problem(r, 401)
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "t@example.jp", "consent": 1}, "consent"),
        ({"email": "t@example.jp", "company": 5}, "company"),
        ({"email": "t@example.jp", "company_size": 12.5}, "company_size"),
        ({"email": "t@example.jp", "company_size": "12.5"}, "company_size"),
        ({"email": "t@example.jp", "budget": "1e6"}, "budget"),
        ({"email": "t@example.jp", "budget": True}, "budget"),
        ({"email": "t@example.jp", "decision_maker": "yes"}, "decision_maker"),
        ({"email": ["t@example.jp"]}, "email"),
    ],
)
def test_a_value_of_the_wrong_json_type_is_refused(
    key_client: Any, body: dict[str, Any], field: str
) -> None:
    before = counts()
    problem = assert_problem(key_client.post("/api/v1/intake/", body, format="json"), 400)
    assert problem["errors"][0]["field"] == field
    nothing_written(before)


def test_numbers_as_plain_or_full_width_digits_are_taken(key_client: Any) -> None:
    body = {"email": "d@example.jp", "company_size": "１２０", "budget": "1500000.50"}
    assert key_client.post("/api/v1/intake/", body, format="json").status_code == 201
    lead = Lead.objects.get(email="d@example.jp")
    assert (lead.company_size, str(lead.budget)) == (120, "1500000.50")


@pytest.mark.parametrize(
    "query",
    ["?stat=mql", "?page_size=0", "?page_size=abc", "?page_size=²", "?page_size=5&page_size=6",
     "?team=99999999999999999999999", "?team=-1.7976931348623155e%2B308", "?min_score=1e400",
     "?owner=²"],
)  # fmt: skip
def test_unknown_or_malformed_query_parameters_are_refused(client_for: Any, query: str) -> None:
    r = client_for("coo").get(f"/api/v1/leads/{query}")
    if query == "?owner=²":  # a free-text filter: no such owner, an empty page
        assert r.status_code == 200 and r.json()["results"] == []
        return
    assert_problem(r, 400)


@pytest.mark.parametrize(
    "path",
    ["/api/v1/leads/99999999999999999999999/", "/api/v1/leads/1/timeline/?limit=²",
     "/api/v1/reports/criteria/?definition=²", "/api/v1/handoffs/?breached=null",
     "/api/v1/reports/funnel/?group_by="],
)  # fmt: skip
def test_odd_numbers_in_paths_and_queries_are_4xx(client_for: Any, path: str) -> None:
    r = client_for("coo").get(path)
    assert 400 <= r.status_code < 500 and r["Content-Type"] == "application/problem+json", path


@pytest.mark.parametrize("body", [None, [], {}, "x"])
def test_an_events_post_without_an_event_is_refused(key_client: Any, body: Any) -> None:
    r = key_client.post("/api/v1/events/", json.dumps(body), content_type="application/json")
    assert_problem(r, 400)
