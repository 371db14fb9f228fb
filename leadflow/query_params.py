"""Unknown query parameters are a 400 on the REST API, as unknown body fields are: a client's
typo (`?stat=mql`) must not silently return everything. What each operation takes is read from
the OpenAPI schema itself, so the check and the documentation cannot drift apart."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from functools import lru_cache

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from leadflow.problems import problem_response

API_PREFIX = "/api/v1/"
UNCHECKED = ("/api/v1/schema/", "/api/v1/docs/")
# The route syntax `<converter:name>` as OpenAPI's `{name}`.
_PARAM = re.compile(r"<(?:[^:>]+:)?([^>]+)>")


_generating = threading.Lock()


def declared_query_params() -> dict[tuple[str, str], frozenset[str]]:
    """(OpenAPI path, method) -> the names of the query parameters it declares; built once
    per process (schema generation is not safe to run in two threads at once)."""
    if _declared.cache_info().currsize:
        return _declared()
    with _generating:
        return _declared()


@lru_cache(maxsize=1)
def _declared() -> dict[tuple[str, str], frozenset[str]]:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    out: dict[tuple[str, str], frozenset[str]] = {}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            out[(path, method.upper())] = frozenset(names)
    return out


class UnknownQueryParamsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.GET
            and request.path.startswith(API_PREFIX)
            and not request.path.startswith(UNCHECKED)
        ):
            unknown = self._unknown(request)
            if unknown:
                return problem_response(
                    request, 400, "unknown-query-parameter", "The request is not valid",
                    "Unknown query parameters: " + ", ".join(sorted(unknown)[:10]) + ".",
                )  # fmt: skip
        return self.get_response(request)

    @staticmethod
    def _unknown(request: HttpRequest) -> set[str]:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return set()
        path = "/" + _PARAM.sub(r"{\1}", match.route)
        allowed = declared_query_params().get((path, request.method or "GET"))
        if allowed is None:
            return set()  # not an operation (405 follows)
        return set(request.GET) - allowed
