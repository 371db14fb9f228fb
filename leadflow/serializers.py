"""Serializer bases shared by every app's API."""

from __future__ import annotations

import json
from typing import Any

from rest_framework import serializers

from leads.normalize import contains_nul


class StrictMixin:
    """Unknown fields are a 400, not silently dropped; read-only ones name themselves."""

    unknown_field_messages: dict[str, str] = {}

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
