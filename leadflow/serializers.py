"""Serializer bases shared by every app's API."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.pagination import CursorPagination

from leads.normalize import contains_nul

DECIMAL_TEXT = r"^[0-9０-９]+([.．][0-9０-９]+)?$"
INTEGER_TEXT = r"^[0-9０-９]+$"


@extend_schema_field({"oneOf": [{"type": "number"}, {"type": "string", "pattern": DECIMAL_TEXT}]})
class DecimalInput(serializers.DecimalField):
    """A decimal as a JSON number, or as text (money keeps its precision as a string; Japanese
    forms send full-width digits). Text must be plain digits: no sign, exponent or spaces."""

    accepts_text = True

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and not re.match(DECIMAL_TEXT, data):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string", "pattern": INTEGER_TEXT}]})
class IntegerInput(serializers.IntegerField):
    """A whole number as a JSON integer, or as digits (full-width ones too)."""

    accepts_text = True

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and not re.match(INTEGER_TEXT, data):
            self.fail("invalid")
        return super().to_internal_value(data)


def json_type_error(field: serializers.Field, value: Any) -> str | None:
    """What is wrong with `value`'s JSON type for `field`, as the OpenAPI schema states it (DRF
    would otherwise take "1" for 1, 0 for false and 5 for "5"); None if it is right."""
    if value is None:
        return None  # whether null is allowed is the field's own business
    if getattr(field, "accepts_text", False) and isinstance(value, str):
        return None  # the field checks the text itself
    checks: list[tuple[type, tuple[type, ...], str]] = [
        (serializers.BooleanField, (bool,), "true or false"),
        (serializers.IntegerField, (int,), "an integer"),
        (serializers.PrimaryKeyRelatedField, (int,), "an integer id"),
        (serializers.DecimalField, (int, float), "a number"),
        (serializers.FloatField, (int, float), "a number"),
        (serializers.MultipleChoiceField, (list,), "a list"),
        (serializers.ListField, (list,), "a list"),
        (serializers.DictField, (dict,), "an object"),
        (serializers.CharField, (str,), "a string"),
        (serializers.ChoiceField, (str,), "a string"),
        (serializers.DateField, (str,), "a date string"),
        (serializers.DateTimeField, (str,), "a date-time string"),
    ]
    for kind, allowed, name in checks:
        if isinstance(field, kind):
            ok = isinstance(value, allowed) and not (
                isinstance(value, bool) and bool not in allowed
            )
            return None if ok else f"Must be {name}."
    return None


def _clone(field: serializers.Field) -> serializers.Field:
    """A fresh, unbound copy of a built field. Binding sets only the copy's own attributes, so
    a shallow copy will do, and costs a tenth of DRF's deep copy (which re-runs `__init__`);
    fields that hold other fields (a list's child, a nested serializer) are copied deeply."""
    if hasattr(field, "child") or hasattr(field, "fields") or hasattr(field, "child_relation"):
        return copy.deepcopy(field)
    return copy.copy(field)


class StrictMixin:
    """Unknown fields are a 400, not silently dropped; read-only ones name themselves. Values
    must have the JSON type the schema documents, unless the caller parsed a form (context
    `form_input`: every value arrives as text there)."""

    unknown_field_messages: dict[str, str] = {}
    # For model serializers: decimals and whole numbers as numbers or text (see DecimalInput).
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DecimalField: DecimalInput,
        models.PositiveIntegerField: IntegerInput,
    }

    def get_fields(self) -> dict[str, Any]:
        """A model serializer introspects its model on every instantiation (~1.5 ms for a lead);
        the fields it builds depend only on the class, so they are built once and copied."""
        if not isinstance(self, serializers.ModelSerializer):
            return super().get_fields()  # type: ignore[misc]
        cls = type(self)
        built = cls.__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()  # type: ignore[misc]
            cls._built_fields = built  # type: ignore[attr-defined]
        return {name: _clone(field) for name, field in built.items()}

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            fields = self.fields  # type: ignore[attr-defined]
            writable = {name for name, f in fields.items() if not f.read_only}
            errors = {
                key: [self.unknown_field_messages.get(key, "Unknown or read-only field.")]
                for key in data
                if key not in writable
            }
            if errors:
                raise serializers.ValidationError(errors, code="unknown_field")
            if not self.context.get("form_input"):  # type: ignore[attr-defined]
                typed = {
                    key: [problem]
                    for key, value in data.items()
                    if (problem := json_type_error(fields[key], value))
                }
                if typed:
                    raise serializers.ValidationError(typed, code="invalid")
        return super().to_internal_value(data)  # type: ignore[misc]


class StrictSerializer(StrictMixin, serializers.Serializer):
    pass


class JSONObjectField(serializers.JSONField):
    """A JSON object with bounded size and no NUL characters (PostgreSQL refuses them)."""

    def __init__(self, *args: Any, max_bytes: int = 16_384, **kwargs: Any) -> None:
        self.max_bytes = max_bytes
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.", code="invalid")
        if contains_nul(value):
            raise serializers.ValidationError(
                "Null characters are not allowed.", code="null_characters_not_allowed"
            )
        if len(json.dumps(value, ensure_ascii=False).encode()) > self.max_bytes:
            raise serializers.ValidationError(f"At most {self.max_bytes} bytes.", code="max_length")
        return value


class StrictCursorPagination(CursorPagination):
    """Cursor pages whose `page_size` is a whole number in range, or a 400 (DRF would quietly
    fall back to the default for `?page_size=abc`)."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Any) -> int:
        from leadflow.errors import FieldError, ValidationFailed

        values = request.query_params.getlist(self.page_size_query_param)
        if not values:
            return self.page_size or 50
        raw = values[-1]
        if (
            len(values) > 1
            or not raw.isascii()
            or not raw.isdigit()  # after isascii: no "²"
            or not (1 <= int(raw) <= self.max_page_size)
        ):
            raise ValidationFailed(
                [FieldError("page_size", f"A whole number from 1 to {self.max_page_size}.")]
            )
        return int(raw)
