"""Path converters: an id is at most 18 digits, so no path can ask the database for a number
that overflows a bigint (a longer one is simply not a route: 404)."""

from django.urls import register_converter


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")
