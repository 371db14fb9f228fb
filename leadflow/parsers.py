"""The API's JSON parser: DRF's, refusing before parsing what would break what comes after it.

Deeply nested documents (a RecursionError in the parser or in every walk of the value) and lone
surrogates (`"\\ud800"`: valid JSON, but not text that PostgreSQL or UTF-8 can hold) are a 400
with a clear message, whatever the endpoint."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32
_OPEN, _CLOSE, _QUOTE, _ESCAPE = b"[{", b"]}", ord('"'), ord("\\")


def json_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text, strings skipped; no parsing."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == _ESCAPE:
                escaped = True
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif byte in _CLOSE:
            depth -= 1
    return deepest


def has_lone_surrogate(value: Any) -> bool:
    """Whether a parsed JSON value holds a string (key or value) that is not valid Unicode."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class StrictJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        raw = stream.read() if stream is not None else b""
        if json_depth(raw) > MAX_DEPTH:
            raise ParseError(_("The JSON is nested deeper than %d levels.") % MAX_DEPTH)
        data = super().parse(io.BytesIO(raw), media_type, parser_context)
        if has_lone_surrogate(data):
            raise ParseError(_("The JSON holds text that is not valid Unicode (a lone surrogate)."))
        return data
