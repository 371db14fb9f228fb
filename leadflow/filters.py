"""Filters shared by the list endpoints: query values that the schema forbids are a 400."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms


class StrictBooleanField(forms.Field):
    """`true` or `false`, as the OpenAPI schema serialises a boolean query parameter."""

    def to_python(self, value: Any) -> bool | None:
        if value is None:
            return None
        if value == "true":
            return True
        if value == "false":
            return False
        raise forms.ValidationError("Must be true or false.", code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number that fits a bigint (larger ones would overflow the query)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class BoundedNumberFilter(django_filters.NumberFilter):
    """A number within what the compared column can hold."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", -(10**12))
        kwargs.setdefault("max_value", 10**12)
        super().__init__(*args, **kwargs)


def as_id(value: str) -> int | None:
    """A user or row id given as text; None unless plain ASCII digits that fit a bigint."""
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        return None
    return int(value)
