"""Validation of one event item: the hot path of `POST /events/` (up to 1000 items a request).

A plain function rather than a DRF serializer per item (which costs ~120 µs an item in field
machinery). It is the only validator of event items: `/events/` and intake's `events` both use it.
`event_schema` documents the same shape in OpenAPI, from the same constants; a test checks that
the two agree on what they both can say.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from leadflow.errors import FieldError
from leads.normalize import contains_nul, normalize_email

TYPE_RE = re.compile(r"[a-z][a-z0-9_.:\-]{0,63}")
MAX_PROPERTIES_BYTES = 16_384
MAX_FUTURE = timedelta(days=1)
RESERVED_PREFIX = "activity."  # only `activity_log` writes these: who did it is recorded
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # year 1 would be stored as 1 BC and break reads


def event_schema(*, lead_ref: bool) -> dict[str, Any]:
    """The JSON schema of one item (OpenAPI 3.0): what `parse_event` takes, as far as a schema
    can say it (the time window and the size of `properties` are in the descriptions)."""
    properties: dict[str, Any] = {
        "id": {
            "oneOf": [{"type": "string", "minLength": 1, "maxLength": 128}, {"type": "integer"}],
            "description": "The client's id of the event: a repeat is a duplicate, not an error.",
        },
        "type": {
            "type": "string",
            "pattern": f"^{TYPE_RE.pattern}$",
            "maxLength": 64,
            "description": f"`{RESERVED_PREFIX}*` is reserved for the activities that people "
            "log on a lead (`POST /leads/{id}/activities/`).",
        },
        "occurred_at": {
            "type": "string",
            "format": "date-time",
            "description": "Default: now. From the year 2000 to a day ahead.",
        },
        "properties": {
            "type": "object",
            "nullable": True,
            "description": f"At most {MAX_PROPERTIES_BYTES} bytes as JSON.",
        },
    }
    schema: dict[str, Any] = {"type": "object", "properties": properties, "required": ["type"],
                              "additionalProperties": False}  # fmt: skip
    if lead_ref:
        properties["email"] = {"type": "string", "format": "email", "maxLength": 254}
        properties["lead"] = {"type": "integer", "minimum": 1}
        schema["oneOf"] = [{"required": ["email"]}, {"required": ["lead"]}]
        schema["description"] = "Names its lead by exactly one of `email` or `lead`."
    return schema


@dataclass(frozen=True)
class EventItem:
    type: str
    occurred_at: datetime
    properties_json: str
    external_id: str | None
    email: str | None = None
    lead: int | None = None


def _datetime(value: Any, now: datetime) -> tuple[datetime | None, str | None]:
    if not isinstance(value, str):
        return None, _("Datetime has wrong format. Use ISO 8601.")
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        parsed = None
    if parsed is None:
        return None, _("Datetime has wrong format. Use ISO 8601.")
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    if parsed > now + MAX_FUTURE:
        return None, _("Must not be in the future.")
    if parsed < EARLIEST:
        return None, _("Must be in the year 2000 or later.")
    return parsed, None


def parse_event(
    item: Any, *, now: datetime, lead_ref: bool
) -> tuple[EventItem | None, list[FieldError]]:
    """One item → (EventItem, []) or (None, errors). With `lead_ref` the item names its lead by
    exactly one of `email` or `lead`; without, it belongs to the intake's lead."""
    if not isinstance(item, dict):
        return None, [FieldError("body", _("Each event must be a JSON object."), "invalid")]
    allowed = {"id", "type", "occurred_at", "properties"} | (
        {"email", "lead"} if lead_ref else set()
    )
    errors = [
        FieldError(str(k), _("Unknown field."), "unknown_field") for k in item if k not in allowed
    ]
    etype = item.get("type")
    if etype is None:
        errors.append(FieldError("type", _("This field is required."), "required"))
    elif not isinstance(etype, str) or not TYPE_RE.fullmatch(etype):  # "$" would allow "x\n"
        errors.append(
            FieldError(
                "type", _("A lower-case event type (a-z, 0-9, _ . : -), at most 64."), "invalid"
            )
        )
    elif etype.startswith(RESERVED_PREFIX):
        errors.append(FieldError("type", _(
            "Activities are logged on the lead (POST /api/v1/leads/{id}/activities/), not sent "
            "as events."), "reserved"))  # fmt: skip
    occurred_at: datetime | None = now
    if item.get("occurred_at") is not None:
        occurred_at, problem = _datetime(item["occurred_at"], now)
        if problem:
            errors.append(FieldError("occurred_at", problem, "invalid"))
    properties = item.get("properties", {})
    properties_json = "{}"
    if properties is None:
        properties = {}
    if not isinstance(properties, dict):
        errors.append(FieldError("properties", _("Must be a JSON object."), "invalid"))
    elif properties:
        if contains_nul(properties):
            errors.append(
                FieldError(
                    "properties",
                    _("Null characters are not allowed."),
                    "null_characters_not_allowed",
                )
            )
        else:
            properties_json = json.dumps(properties, ensure_ascii=False)
            if len(properties_json.encode()) > MAX_PROPERTIES_BYTES:
                errors.append(
                    FieldError(
                        "properties", _("At most %d bytes.") % MAX_PROPERTIES_BYTES, "max_length"
                    )
                )
    external_id = item.get("id")
    if external_id is not None:
        if isinstance(external_id, int) and not isinstance(external_id, bool):
            external_id = str(external_id)
        if (
            not isinstance(external_id, str)
            or not 0 < len(external_id) <= 128
            or "\x00" in external_id
        ):
            errors.append(FieldError("id", _("A string of 1 to 128 characters."), "invalid"))
    email, lead = None, None
    if lead_ref:
        email, lead = _lead_ref(item, errors)
    if errors:
        return None, errors
    assert occurred_at is not None and isinstance(etype, str)
    return EventItem(etype, occurred_at, properties_json, external_id, email, lead), []


def _lead_ref(item: dict[str, Any], errors: list[FieldError]) -> tuple[str | None, int | None]:
    has_email, has_lead = item.get("email") is not None, item.get("lead") is not None
    if has_email == has_lead:
        errors.append(FieldError("lead", _("Give exactly one of 'email' or 'lead'."), "required"))
        return None, None
    if has_email:
        raw = item["email"]
        try:
            if not isinstance(raw, str) or len(raw) > 254:
                raise ValidationError("invalid")
            return normalize_email(raw), None
        except ValidationError:
            errors.append(FieldError("email", _("Enter a valid e-mail address."), "invalid"))
            return None, None
    raw = item["lead"]
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        errors.append(FieldError("lead", _("A lead id (a positive whole number)."), "invalid"))
        return None, None
    return None, raw


def parse_events(
    items: list[Any], *, lead_ref: bool
) -> tuple[list[tuple[int, EventItem]], list[dict[str, Any]]]:
    """Every item → the valid ones with their index, and `{index, errors}` for the others."""
    now = timezone.now()
    valid, rejected = [], []
    for i, item in enumerate(items):
        parsed, errors = parse_event(item, now=now, lead_ref=lead_ref)
        if parsed is None:
            rejected.append({"index": i, "errors": [e.as_dict() for e in errors]})
        else:
            valid.append((i, parsed))
    return valid, rejected
