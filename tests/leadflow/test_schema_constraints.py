"""The OpenAPI schema says what the server enforces (so schema-valid input is accepted and the
rest refused): formats, ranges, patterns, object shapes, and which rule fields go with a kind."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.generators import SchemaGenerator


def _schema() -> dict[str, Any]:
    return dict(SchemaGenerator().get_schema(request=None, public=True))


def _param(op: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in op["parameters"] if p["name"] == name)["schema"]


def _component(schema: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    return dict(schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]])


def test_the_schema_carries_the_servers_constraints() -> None:
    s = _schema()
    paths = s["paths"]
    intake = paths["/api/v1/intake/"]["post"]["requestBody"]["content"]["application/json"]
    body = _component(s, intake["schema"])
    assert body["properties"]["email"]["format"] == "email" and "email" in body["required"]
    timeline = _param(paths["/api/v1/leads/{lead_id}/timeline/"]["get"], "limit")
    assert (timeline["minimum"], timeline["maximum"]) == (1, 500)
    page = _param(paths["/api/v1/leads/"]["get"], "page_size")
    assert (page["minimum"], page["maximum"]) == (1, 200)
    bound = _param(paths["/api/v1/reports/funnel/"]["get"], "from")["pattern"]
    for ok in ("", "2026-12-07", "2026-12-07T09:00:00+09:00", "2026-12-07T00:00Z"):
        assert re.fullmatch(bound, ok), ok
    for bad in ("07/12/2026", "2026-12-07T09", "yesterday", "2026-12-07\n"):
        assert not re.fullmatch(bound.rstrip("$") + r"\Z", bad), bad
    write = paths["/api/v1/definitions/"]["post"]["requestBody"]["content"]["application/json"]
    assert _component(s, write["schema"])["properties"]["stages"]["type"] == "object"
    rule = paths["/api/v1/scoring-rules/"]["post"]["requestBody"]["content"]["application/json"]
    poly = _component(s, rule["schema"])
    assert poly["discriminator"]["propertyName"] == "kind"
    branches = {k: _component(s, {"$ref": v}) for k, v in poly["discriminator"]["mapping"].items()}
    assert {"field", "operator"} <= set(branches["fit"]["required"])
    assert "event_type" in branches["engagement"]["required"]
    assert "event_type" not in branches["fit"]["properties"]
