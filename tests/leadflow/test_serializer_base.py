"""The strict serializer base (`leadflow.serializers`): JSON types by field kind, and the
fields a body leaves out are treated exactly as DRF treats them."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import QueryDict
from rest_framework import serializers

from leadflow.serializers import StrictSerializer, json_type_error


@pytest.mark.parametrize(
    ("field", "good", "bad", "message"),
    [
        (serializers.BooleanField(), True, 0, "Must be true or false."),
        (serializers.IntegerField(), 5, True, "Must be an integer."),
        (serializers.DecimalField(max_digits=5, decimal_places=2), 1.5, "1.5", "Must be a number."),
        (serializers.MultipleChoiceField(choices=["a", "b"]), ["a"], "a", "Must be a list."),
        (serializers.ChoiceField(choices=["a", "b"]), "a", ["a"], "Must be a string."),
        (serializers.ListField(child=serializers.CharField()), ["x"], "x", "Must be a list."),
        (serializers.DictField(), {"k": 1}, [], "Must be an object."),
        (serializers.EmailField(), "a@example.jp", 5, "Must be a string."),
        (serializers.DateTimeField(), "2026-12-04T10:00:00Z", 1, "Must be a date-time string."),
    ],
)
def test_json_types_by_field_kind(field: Any, good: Any, bad: Any, message: str) -> None:
    assert json_type_error(field, good) is None
    assert json_type_error(field, bad) == message
    assert json_type_error(field, None) is None


class Sample(StrictSerializer):
    name = serializers.CharField()
    note = serializers.CharField(required=False)
    size = serializers.IntegerField(required=False, default=3)
    flag = serializers.BooleanField(required=False)


def test_absent_fields_are_skipped_defaulted_or_required_as_drf_does() -> None:
    s = Sample(data={"name": "x"})
    assert s.is_valid(), s.errors
    assert s.validated_data == {"name": "x", "size": 3}
    missing = Sample(data={"note": "y"})
    assert not missing.is_valid()
    assert set(missing.errors) == {"name"}
    partial = Sample(data={"note": "y"}, partial=True)
    assert partial.is_valid() and partial.validated_data == {"note": "y"}


def test_a_forms_absent_checkbox_still_means_false() -> None:
    s = Sample(data=QueryDict("name=x"), context={"form_input": True})
    assert s.is_valid(), s.errors
    assert s.validated_data["flag"] is False


def test_every_field_is_visited_again_after_validation() -> None:
    s = Sample(data={"name": "x"})
    s.is_valid()
    assert {f.field_name for f in s._writable_fields} == {"name", "note", "size", "flag"}
