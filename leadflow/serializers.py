"""Serializer bases shared by every app's API."""

from __future__ import annotations

import copy
import json
import re
import unicodedata
from typing import Any

from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.pagination import CursorPagination
from rest_framework.utils import html
from rest_framework.utils.serializer_helpers import BindingDict

from leads.normalize import contains_nul

DECIMAL_TEXT = r"^[0-9０-９]+([.．][0-9０-９]+)?$"
INTEGER_TEXT = r"^[0-9０-９]+$"


@extend_schema_field({"oneOf": [{"type": "number"}, {"type": "string", "pattern": DECIMAL_TEXT}]})
class DecimalInput(serializers.DecimalField):
    """A decimal as a JSON number, or as text (money keeps its precision as a string; Japanese
    forms send full-width digits). Text must be plain digits: no sign, exponent or spaces."""

    accepts_text = True

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str):
            if not re.match(DECIMAL_TEXT, data):
                self.fail("invalid")
            data = unicodedata.normalize("NFKC", data)  # "１２３．４５" is 123.45
        return super().to_internal_value(data)


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string", "pattern": INTEGER_TEXT}]})
class IntegerInput(serializers.IntegerField):
    """A whole number as a JSON integer, or as digits (full-width ones too)."""

    accepts_text = True

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str):
            if not re.match(INTEGER_TEXT, data):
                self.fail("invalid")
            data = unicodedata.normalize("NFKC", data)
        return super().to_internal_value(data)


# The JSON type each kind of field takes, as the schema states it; the first match counts.
JSON_TYPES: list[tuple[type, tuple[type, ...], str]] = [
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
_json_type_of: dict[type, tuple[tuple[type, ...], str] | None] = {}


def json_type_error(field: serializers.Field[Any, Any, Any, Any], value: Any) -> str | None:
    """What is wrong with `value`'s JSON type for `field`, as the OpenAPI schema states it (DRF
    would otherwise take "1" for 1, 0 for false and 5 for "5"); None if it is right."""
    if value is None:
        return None  # whether null is allowed is the field's own business
    if getattr(field, "accepts_text", False) and isinstance(value, str):
        return None  # the field checks the text itself
    kind = type(field)
    if kind not in _json_type_of:
        _json_type_of[kind] = next(
            ((allowed, name) for base, allowed, name in JSON_TYPES if issubclass(kind, base)), None
        )
    expected = _json_type_of[kind]
    if expected is None:
        return None
    allowed, name = expected
    ok = isinstance(value, allowed) and not (isinstance(value, bool) and bool not in allowed)
    return None if ok else f"Must be {name}."


def _binds_plainly(field: serializers.Field[Any, Any, Any, Any]) -> bool:
    """A field whose binding only names it (no child fields, no parent-dependent binding)."""
    return type(field).bind is serializers.Field.bind and not (
        hasattr(field, "child") or hasattr(field, "fields") or hasattr(field, "child_relation")
    )


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
    # The keys of the body being validated: optional fields it leaves out are not visited.
    _present: Any = None

    @cached_property
    def fields(self) -> BindingDict:
        """A model serializer introspects its model on every instantiation (~1.5 ms for a lead);
        the fields it builds depend only on the class, so they are built and bound once, and
        each instance gets shallow copies with itself as the parent (a tenth of DRF's deep copy,
        which re-runs every field's `__init__`). Fields that hold other fields, or bind in a
        way of their own, are deep-copied and bound as DRF does."""
        if not isinstance(self, serializers.ModelSerializer):
            return super().fields  # type: ignore[misc,no-any-return]
        cls = type(self)
        templates = cls.__dict__.get("_field_templates")
        if templates is None:
            templates = []
            for name, field in super().get_fields().items():  # type: ignore[misc]
                plain = _binds_plainly(field)
                if plain:
                    field.bind(field_name=name, parent=self)
                    field.parent = None
                templates.append((name, field, plain))
            cls._field_templates = templates  # type: ignore[attr-defined]
        bound = BindingDict(self)
        for name, field, plain in templates:
            if plain:
                clone = object.__new__(type(field))
                clone.__dict__.update(field.__dict__)
                clone.parent = self
                bound.fields[name] = clone
            else:
                bound[name] = copy.deepcopy(field)
        return bound

    @property
    def _writable_fields(self) -> list[serializers.Field[Any, Any, Any, Any]]:
        """DRF's, less the fields it would skip anyway while a body is validated: absent,
        optional and without a default."""
        present = self._present
        return [
            field
            for field in self.fields.values()
            if not field.read_only
            and (
                present is None
                or field.field_name in present
                or field.required
                or field.default is not empty
            )
        ]

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            fields = self.fields
            errors = {
                key: [self.unknown_field_messages.get(key, "Unknown or read-only field.")]
                for key in data
                if key not in fields or fields[key].read_only
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
                    # Every field's problem at once: the others are still checked.
                    raise serializers.ValidationError(
                        {**self._other_errors(data, typed), **typed}, code="invalid"
                    )
            if not html.is_html_input(data):  # a form's absent checkbox still means false
                self._present = data.keys()
        try:
            return super().to_internal_value(data)  # type: ignore[misc]
        finally:
            self._present = None

    def _other_errors(self, data: dict[str, Any], typed: dict[str, Any]) -> dict[str, Any]:
        rest = {k: v for k, v in data.items() if k not in typed}
        self._present = rest.keys()
        try:
            super().to_internal_value(rest)  # type: ignore[misc]
        except serializers.ValidationError as exc:
            return dict(exc.detail) if isinstance(exc.detail, dict) else {}
        finally:
            self._present = None
        return {}


class StrictSerializer(StrictMixin, serializers.Serializer[Any]):
    pass


@extend_schema_field({"type": "object", "additionalProperties": True})
class JSONObjectField(serializers.JSONField):
    """A JSON object with bounded size and no NUL characters (PostgreSQL refuses them)."""

    def __init__(self, *args: Any, max_bytes: int = 16_384, **kwargs: Any) -> None:
        self.max_bytes = max_bytes
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            raise serializers.ValidationError(_("Must be a JSON object."), code="invalid")
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

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        """The schema says what `get_page_size` enforces: a whole number from 1 to 200."""
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param.get("name") == self.page_size_query_param:
                param["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return list(params)

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
