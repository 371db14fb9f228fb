"""One shape for an event item: `parse_event` validates it, `event_schema` documents it (intake's
`events` in OpenAPI). On every item here, the two say the same thing: valid, or not."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest
from django.utils import timezone

from leads.event_input import event_schema, parse_event

VALID = [
    {"email": "sato@example.co.jp", "type": "page_view"},
    {"lead": 5, "type": "x.y:z-1_2", "id": "abc", "properties": {"url": "/pricing"},
     "occurred_at": "2026-01-01T00:00:00+09:00"},
    {"lead": 1, "type": "a", "id": 7},
    {"lead": 1, "type": "a", "properties": None},
    {"lead": 1, "type": "a" * 64, "id": "x" * 128},
]  # fmt: skip
INVALID = [
    {"type": "page_view"},  # no lead
    {"email": "sato@example.co.jp", "lead": 1, "type": "x"},  # both
    {"lead": 1},  # no type
    {"lead": 1, "type": "PageView"},
    {"lead": 1, "type": "1st"},
    {"lead": 1, "type": "a" * 65},
    {"lead": 1, "type": "page view"},
    {"lead": 1, "type": "a", "extra": 1},
    {"lead": 1, "type": "a", "id": ""},
    {"lead": 1, "type": "a", "id": "x" * 129},
    {"lead": 1, "type": "a", "properties": [1]},
    {"lead": 1, "type": "a", "properties": "x"},
    {"lead": "1", "type": "a"},
    {"email": 5, "type": "a"},
    {"lead": 1, "type": 5},
    [1, 2],
    "page_view",
]


def _json_schema(schema: Any) -> Any:
    """OpenAPI 3.0's `nullable` as JSON Schema's null type, for the validator library."""
    schema = copy.deepcopy(schema)
    for prop in schema.get("properties", {}).values():
        if prop.pop("nullable", False):
            prop["type"] = [prop["type"], "null"]
    return schema


@pytest.mark.parametrize("item", VALID + INVALID)
def test_the_validator_and_the_documented_schema_agree(item: Any) -> None:
    schema = _json_schema(event_schema(lead_ref=True))
    documented = jsonschema.Draft7Validator(schema).is_valid(item)
    parsed, errors = parse_event(item, now=timezone.now(), lead_ref=True)
    assert (parsed is not None) == documented == (item in VALID), (item, errors)


def test_an_intakes_events_have_no_lead_reference() -> None:
    schema = _json_schema(event_schema(lead_ref=False))
    item = {"type": "page_view", "email": "sato@example.co.jp"}
    assert not jsonschema.Draft7Validator(schema).is_valid(item)
    assert parse_event(item, now=timezone.now(), lead_ref=False)[0] is None
    assert jsonschema.Draft7Validator(schema).is_valid({"type": "page_view"})
