"""The event item validator (the hot path of POST /events/)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leads.event_input import parse_event

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def fields_of(item: object, lead_ref: bool = True) -> set[str]:
    parsed, errors = parse_event(item, now=NOW, lead_ref=lead_ref)
    assert (parsed is None) == bool(errors)
    return {e.field for e in errors}


def test_a_full_valid_item() -> None:
    parsed, errors = parse_event(
        {"email": " A@Example.JP ", "type": "page_view", "occurred_at": "2026-11-30T09:00:00+09:00",
         "properties": {"url": "/features", "日本語": "値"}, "id": 42},
        now=NOW, lead_ref=True,
    )  # fmt: skip
    assert errors == [] and parsed is not None
    assert parsed.email == "a@example.jp" and parsed.external_id == "42"
    assert parsed.occurred_at == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    assert '"日本語": "値"' in parsed.properties_json


def test_defaults() -> None:
    parsed, _ = parse_event({"lead": 3, "type": "x"}, now=NOW, lead_ref=True)
    assert parsed is not None
    assert (parsed.occurred_at, parsed.properties_json, parsed.external_id) == (NOW, "{}", None)


@pytest.mark.parametrize(
    ("item", "fields"),
    [
        ({"lead": 1}, {"type"}),
        ({"lead": 1, "type": "Page View"}, {"type"}),
        ({"lead": 1, "type": 5}, {"type"}),
        ({"lead": 1, "type": "x", "occurred_at": "yesterday"}, {"occurred_at"}),
        ({"lead": 1, "type": "x", "occurred_at": 1700000000}, {"occurred_at"}),
        (
            {"lead": 1, "type": "x", "occurred_at": (NOW + timedelta(days=2)).isoformat()},
            {"occurred_at"},
        ),
        ({"lead": 1, "type": "x", "properties": [1]}, {"properties"}),
        ({"lead": 1, "type": "x", "properties": {"a": {"b": "\x00"}}}, {"properties"}),
        ({"lead": 1, "type": "x", "properties": {"a": "x" * 17000}}, {"properties"}),
        ({"lead": 1, "type": "x", "id": ""}, {"id"}),
        ({"lead": 1, "type": "x", "id": "x" * 129}, {"id"}),
        ({"lead": 1, "type": "x", "id": True}, {"id"}),
        ({"type": "x"}, {"lead"}),
        ({"lead": 1, "email": "a@example.jp", "type": "x"}, {"lead"}),
        ({"lead": True, "type": "x"}, {"lead"}),
        ({"lead": "7", "type": "x"}, {"lead"}),
        ({"lead": 0, "type": "x"}, {"lead"}),
        ({"email": "not-mail", "type": "x"}, {"email"}),
        ({"lead": 1, "type": "x", "colour": "red"}, {"colour"}),
        ("page_view", {"body"}),
    ],
)
def test_invalid_items_name_their_field(item: object, fields: set[str]) -> None:
    assert fields_of(item) == fields


def test_intake_events_may_not_name_a_lead() -> None:
    assert fields_of({"type": "x", "lead": 1}, lead_ref=False) == {"lead"}
    assert fields_of({"type": "x"}, lead_ref=False) == set()
