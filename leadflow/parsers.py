"""The API's JSON parser: DRF's, refusing before parsing what would break what comes after it.

Deeply nested documents (a RecursionError in the parser or in every walk of the value) and lone
surrogates (`"\\ud800"`: valid JSON, but not text that PostgreSQL or UTF-8 can hold) are a 400
with a clear message, whatever the endpoint."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32
# A JSON escape of a UTF-16 surrogate (\ud800–\udfff), the only way one reaches a UTF-8 body.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def json_depth(value: Any) -> int:
    """The deepest nesting of arrays and objects in a parsed JSON value (no recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in item)
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
    """Checks that cost next to nothing on ordinary bodies: the value is walked for its depth
    only when the body has more brackets than the limit, and for surrogates only when it has an
    escaped one."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        raw = stream.read() if stream is not None else b""
        too_deep = ParseError(_("The JSON is nested deeper than %d levels.") % MAX_DEPTH)
        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError as exc:  # deeper than the parser itself goes
            raise too_deep from exc
        if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and json_depth(data) > MAX_DEPTH:
            raise too_deep
        if _SURROGATE_ESCAPE.search(raw) and has_lone_surrogate(data):
            raise ParseError(_("The JSON holds text that is not valid Unicode (a lone surrogate)."))
        return data
