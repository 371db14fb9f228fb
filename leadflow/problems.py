"""RFC 9457 problem+json: the one mapping from exceptions to error responses, and the OpenAPI
hook that documents it on every operation."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

from leadflow import errors

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_type(code: str) -> str:
    return f"urn:leadflow:problem:{code}"


def problem_body(status: int, code: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": problem_type(code), "title": title, "status": status, "detail": detail, **extra}


def _flatten(detail: Any, prefix: str = "") -> list[errors.FieldError]:
    """DRF's nested error detail → a flat list with dotted field paths (`events.2.type`)."""
    out: list[errors.FieldError] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "" if key == "non_field_errors" else str(key)
            path = f"{prefix}.{name}" if prefix and name else (prefix or name)
            out.extend(_flatten(value, path))
    elif isinstance(detail, list):
        if all(isinstance(d, drf.ErrorDetail | str) for d in detail):
            for d in detail:
                out.append(
                    errors.FieldError(prefix or "body", str(d), getattr(d, "code", "invalid"))
                )
        else:
            for i, value in enumerate(detail):
                if value:
                    out.extend(_flatten(value, f"{prefix}.{i}" if prefix else str(i)))
    else:
        out.append(
            errors.FieldError(prefix or "body", str(detail), getattr(detail, "code", "invalid"))
        )
    return out


def validation_failed(detail: Any) -> errors.ValidationFailed:
    """A serializer's `errors` as the business error the UI and services raise."""
    return errors.ValidationFailed(_flatten(detail))


def _drf_problem(exc: drf.APIException) -> tuple[int, dict[str, Any]]:
    status = exc.status_code
    if isinstance(exc, drf.ValidationError):
        field_errors = _flatten(exc.detail)
        err = errors.ValidationFailed(field_errors)
        return status, problem_body(status, err.code, err.title, err.detail, **err.extra())
    code = {
        drf.ParseError: "malformed-body",
        drf.NotAuthenticated: "not-authenticated",
        drf.AuthenticationFailed: "authentication-failed",
        drf.PermissionDenied: "forbidden",
        drf.NotFound: "not-found",
        drf.MethodNotAllowed: "method-not-allowed",
        drf.NotAcceptable: "not-acceptable",
        drf.UnsupportedMediaType: "unsupported-media-type",
        drf.Throttled: "rate-limited",
    }.get(type(exc), str(exc.default_code).replace("_", "-"))
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    # A title names the kind of problem; DRF's default details carry placeholders ({method}).
    title = {
        "method-not-allowed": "Method not allowed",
        "unsupported-media-type": "Unsupported media type",
        "rate-limited": "Too many requests",
    }.get(code, str(exc.default_detail).rstrip("."))
    return status, problem_body(status, code, title, str(detail))


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every error leaves as problem+json and rolls back the request."""
    headers: dict[str, str] = {}
    if isinstance(exc, Http404):
        exc = errors.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = errors.Forbidden()
    elif isinstance(exc, OperationalError | InterfaceError):
        logger.warning("database unavailable: %s", exc)
        exc = errors.ServiceUnavailable("The database is unavailable; retry shortly.")
        headers["Retry-After"] = "5"
    elif isinstance(exc, DatabaseError):
        logger.exception("database error")
        return None

    if isinstance(exc, errors.LeadflowError):
        status = exc.status
        body = problem_body(status, exc.code, exc.title, exc.detail, **exc.extra())
    elif isinstance(exc, drf.APIException):
        status, body = _drf_problem(exc)
        if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
            headers["WWW-Authenticate"] = 'Token realm="api"'
        wait = getattr(exc, "wait", None)
        if isinstance(exc, drf.Throttled) and wait:
            headers["Retry-After"] = str(int(wait))
    else:
        return None
    set_rollback()
    return Response(body, status=status, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def problem_response(
    request: HttpRequest, status: int, code: str, title: str, detail: str
) -> JsonResponse:
    return JsonResponse(
        problem_body(status, code, title, detail),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )


def _wants_page(request: HttpRequest) -> bool:
    """A person's browser on a UI page gets an HTML page; the API and other clients get
    problem+json."""
    if request.path.startswith(("/api/", "/healthz", "/readyz")):
        return False
    accept = request.headers.get("Accept", "")
    return "text/html" in accept or not accept or "*/*" in accept


def _error(request: HttpRequest, status: int, code: str, title: str, detail: str) -> HttpResponse:
    if not _wants_page(request):
        return problem_response(request, status, code, title, detail)
    from django.shortcuts import render

    template = "web/public_error.html" if request.path.startswith("/forms/") else "web/error.html"
    try:
        return render(request, template, {"status": status}, status=status)
    except Exception:  # a page that cannot render must not hide the error it reports
        logger.exception("error page")
        return problem_response(request, status, code, title, detail)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404, "not-found", "Not found", "No such resource.")


def handler500(request: HttpRequest) -> HttpResponse:
    return _error(request, 500, "server-error", "Server error", "An unexpected error occurred.")


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, "bad-request", "Bad request", "The request is malformed.")


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, "forbidden", "Forbidden", "You may not do this.")


def lockout_response(request: HttpRequest, response: Any, credentials: Any) -> JsonResponse:
    """django-axes' AXES_LOCKOUT_CALLABLE: a locked-out login gets 429 problem+json with the
    seconds of the lockout as Retry-After (the API and the admin alike)."""
    from django.conf import settings

    r = problem_response(
        request,
        429,
        "login-locked",
        "Too many failed logins",
        "This username is locked at this address for a while; try again later.",
    )
    r["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return r


# --- OpenAPI -------------------------------------------------------------------------------

_PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message", "code"],
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "code": {"type": "string"},
                },
            },
        },
        "criteria": {"type": "array", "items": {"$ref": "#/components/schemas/CriterionResult"}},
    },
}

_CRITERION_SCHEMA = {
    "type": "object",
    "required": ["code", "passed", "observed", "expected"],
    "properties": {
        "code": {"type": "string"},
        "kind": {"type": "string"},
        "passed": {"type": "boolean"},
        "observed": {},
        "expected": {},
    },
}

_STATUS_TEXT = {
    "400": "Invalid input",
    "401": "Not authenticated",
    "403": "Not allowed",
    "404": "Not found",
    "405": "Method not allowed",
    "406": "Not acceptable",
    "409": "Conflict",
    "413": "Body too large",
    "415": "Unsupported media type",
    "422": "Unprocessable",
    "429": "Rate limited",
    "503": "Unavailable",
}


def add_problem_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Document the problem+json error responses on every operation of the schema."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = _PROBLEM_SCHEMA
    schemas["CriterionResult"] = _CRITERION_SCHEMA
    ref = {"$ref": "#/components/schemas/Problem"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            responses = operation.setdefault("responses", {})
            codes = ["400", "401", "403", "404", "405", "406", "413", "415", "429", "503"]
            if method in {"post", "patch", "put", "delete"}:
                codes += ["409", "422"]
            for code in codes:
                responses.setdefault(
                    code,
                    {
                        "description": _STATUS_TEXT[code],
                        "content": {PROBLEM_CONTENT_TYPE: {"schema": ref}},
                    },
                )
    return result
