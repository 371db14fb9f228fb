"""Hostile and clumsy input gets a clear 4xx and writes nothing (SPEC §9): dates from year 1,
formula cells, deep nesting, text that grows past its column under NFKC, lone surrogates, event
types with a trailing newline."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from leads.models import Event, Lead
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def _json(client: Any, path: str, text: str) -> Any:
    return client.post(path, data=text, content_type="application/json")


def test_an_event_from_year_one_is_refused_and_the_timeline_still_reads(
    users: Any, client_for: Any
) -> None:
    lead = make_lead(email="y1@example.jp")
    api = client_for("coo")
    r = api.post("/api/v1/events/", [
        {"lead": lead.pk, "type": "page_view", "occurred_at": "0001-01-01T00:00:00"},
        {"lead": lead.pk, "type": "page_view", "occurred_at": "1999-12-31T23:59:59Z"},
    ], format="json")  # fmt: skip
    assert r.status_code == 202 and r.json()["accepted"] == 0
    assert [e["errors"][0]["field"] for e in r.json()["rejected"]] == ["occurred_at"] * 2
    assert api.get(f"/api/v1/leads/{lead.pk}/timeline/").status_code == 200


def test_an_event_type_with_a_trailing_newline_is_refused(users: Any, client_for: Any) -> None:
    lead = make_lead(email="nl@example.jp")
    r = client_for("coo").post("/api/v1/events/", {"lead": lead.pk, "type": "page_view\n"},
                               format="json")  # fmt: skip
    assert r.json()["accepted"] == 0 and not Event.objects.filter(lead=lead).exists()


@pytest.mark.parametrize("path", ["/api/v1/auth/token/", "/api/v1/intake/"])
def test_deep_nesting_is_a_400_before_parsing(path: str, key_client: Any) -> None:
    deep = '{"email": "d@example.jp", "attributes": ' + '{"a": ' * 400 + "1" + "}" * 400 + "}"
    for text in (deep, "[" * 1000 + "]" * 1000):
        r = _json(key_client, path, text)
        assert r.status_code == 400 and r["Content-Type"] == "application/problem+json", path
        assert "nested" in r.json()["detail"]
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("first_name", "ﷺ" * 100), ("country", "ﷺ" * 60), ("company", "ﷺ" * 200),
     ("need", "ﷺ" * 2000)],
)  # fmt: skip
def test_text_that_nfkc_grows_past_its_column_is_a_400_at_the_field(
    field: str, value: str, client_for: Any, users: Any
) -> None:
    r = client_for("coo").post("/api/v1/intake/", {"email": "n@example.jp", field: value},
                               format="json")  # fmt: skip
    assert r.status_code == 400
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    "text",
    ['{"email": "s@example.jp", "attributes": {"\\ud800": 1}}',
     '{"email": "s@example.jp", "attributes": {"k": "\\udfff"}}',
     '{"email": "s@example.jp", "events": [{"type": "x", "id": "\\ud83d"}]}'],
)  # fmt: skip
def test_a_lone_surrogate_is_a_400(text: str, key_client: Any) -> None:
    r = _json(key_client, "/api/v1/intake/", text)
    assert r.status_code == 400 and "surrogate" in r.json()["detail"]
    assert not Lead.objects.exists()


def test_exported_cells_never_become_formulas(users: Any) -> None:
    from django.test import Client

    make_lead(email="f1@example.jp", company="=HYPERLINK(\"http://x\")", title="＋1＋1",
              department="@SUM(A1)", first_name="-2+3")  # fmt: skip
    client = Client()
    client.force_login(users["marketing"])
    body = b"".join(client.get("/leads/export.csv").streaming_content).decode("utf-8-sig")
    row = next(r for r in csv.DictReader(io.StringIO(body)) if r["email"] == "f1@example.jp")
    assert row["company"] == '\'=HYPERLINK("http://x")'
    assert row["title"] == "'＋1＋1" and row["department"] == "'@SUM(A1)"
    assert row["first_name"] == "'-2+3"
    assert json.dumps(row)  # the rest of the row is intact


def test_a_chunked_body_is_answered_411_not_dropped(key_client: Any) -> None:
    r = key_client.post("/api/v1/intake/", data='{"email": "c@example.jp"}',
                        content_type="application/json", HTTP_TRANSFER_ENCODING="chunked",
                        CONTENT_LENGTH="")  # fmt: skip
    assert r.status_code == 411 and r["Content-Type"] == "application/problem+json"
    assert not Lead.objects.exists()


def test_problem_titles_carry_no_placeholders_and_full_width_decimals_are_read(
    users: Any, client_for: Any
) -> None:
    api = client_for("coo")
    r = api.put("/api/v1/intake/", {}, format="json")
    assert r.status_code == 405 and "{" not in r.json()["title"]
    r = api.post("/api/v1/intake/", data="x", content_type="text/plain")
    assert r.status_code == 415 and "{" not in r.json()["title"]
    r = api.post("/api/v1/intake/", {"email": "b@example.jp", "budget": "１２３．４５"},
                 format="json")  # fmt: skip
    assert r.status_code == 201 and str(Lead.objects.get().budget) == "123.45"


def test_a_webhook_lists_each_event_at_most_once(users: Any, client_for: Any) -> None:
    body = {"name": "w", "url": "https://h.example.jp/", "secret": "s" * 20}
    r = client_for("coo").post("/api/v1/webhooks/", {**body, "event_types": ["*"] * 100_000},
                               format="json")  # fmt: skip
    assert r.status_code == 400


def test_a_wrong_typed_boolean_hides_no_other_error(client_for: Any, users: Any) -> None:
    r = client_for("coo").post("/api/v1/intake/", {"email": "not-an-email", "consent": "yes",
                                                   "company_size": "many"}, format="json")  # fmt: skip
    assert r.status_code == 400
    assert {e["field"] for e in r.json()["errors"]} == {"email", "consent", "company_size"}


@pytest.mark.parametrize("raw", ['["NaN", 1]', '["Infinity", 1]', '["1e999999", 1]',
                                 '["1", 1e30]', '[null, 1]', '"x"'])  # fmt: skip
def test_a_forged_lead_list_cursor_is_ignored_not_a_500(raw: str, users: Any) -> None:
    import base64

    from django.test import Client

    client = Client()
    client.force_login(users["marketing"])
    cursor = base64.urlsafe_b64encode(raw.encode()).decode()
    assert client.get("/leads/", {"sort": "-score", "cursor": cursor}).status_code == 200
    assert client.get("/leads/", {"sort": "-created", "cursor": cursor}).status_code == 200
