"""Request guards that must run before any view reads the body."""

from collections.abc import Callable
from functools import cached_property

import csp.middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from leadflow.errors import PayloadTooLarge
from leadflow.problems import problem_response


class BodySizeLimitMiddleware:
    """Refuse oversized bodies with 413 problem+json before anything parses them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not request.META.get("CONTENT_LENGTH"):
            # WSGI hands a body without a length to nobody: say so instead of reading nothing.
            return problem_response(
                request, 411, "length-required", "Length required",
                "Send the body with a Content-Length header (chunked bodies are not read).",
            )  # fmt: skip
        limit = settings.MAX_REQUEST_BODY_BYTES
        if any(request.path.startswith(p) for p in settings.UPLOAD_PATHS):
            limit = settings.MAX_UPLOAD_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return problem_response(
                request, 400, "bad-request", "Bad request", "Content-Length is not a number."
            )
        if length > limit:
            return problem_response(
                request,
                PayloadTooLarge.status,
                PayloadTooLarge.code,
                PayloadTooLarge.title,
                f"The body is {length} bytes; the limit is {limit} bytes.",
            )
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """A database that went away mid-request (a restart, a failover) is a 503 with Retry-After
    for every page, as the API's exception handler makes it for the API: the client retries,
    nothing is half-written (the request's transaction died with the connection)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        import logging

        from django.db import InterfaceError, OperationalError
        from django.shortcuts import render

        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logging.getLogger(__name__).warning("database unavailable: %s", exception)
        if "text/html" in request.headers.get("Accept", ""):
            response: HttpResponse = render(request, "web/unavailable.html", status=503)
        else:
            response = problem_response(
                request, 503, "service-unavailable", "A backing service is unavailable",
                "The database is unavailable; retry shortly.",
            )  # fmt: skip
        response["Retry-After"] = "5"
        return response


# What a decorator (`csp_update`, `csp_exempt`, …) sets on a response to change its policy.
_POLICY_ATTRS = tuple(
    f"_csp_{what}{ro}" for what in ("config", "update", "replace", "exempt") for ro in ("", "_ro")
)


class CSPMiddleware(csp.middleware.CSPMiddleware):
    """django-csp's middleware, with the policy of a plain response built once per process: one
    that no decorator changed and no template nonce marked (every API response, most pages).
    Building it for each response cost about a twentieth of an intake. Anything else, and any
    setting that makes a response's policy depend on more than that, goes through django-csp."""

    @cached_property
    def _plain_headers(self) -> list[tuple[str, str]]:
        built = [(HEADER, build_policy()), (HEADER_REPORT_ONLY, build_policy(report_only=True))]
        return [(header, policy) for header, policy in built if policy]

    @cached_property
    def _excludes_paths(self) -> bool:
        names = ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")
        configs = [getattr(settings, name, None) or {} for name in names]
        return any(config.get("EXCLUDE_URL_PREFIXES") for config in configs)

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if (
            settings.DEBUG
            or self._excludes_paths
            or getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, attr) for attr in _POLICY_ATTRS)
        ):
            return super().process_response(request, response)
        for header, policy in self._plain_headers:
            if header not in response:
                response[header] = policy
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = csp.middleware.CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response


class LoginRateLimitMiddleware:
    """The web and admin login forms, per address (`RATE_LIMITS["login"]`), as the token login
    is: the lockout counts one username at one address, this counts every username tried from
    one address. Over the limit: 429 with Retry-After, before any password is checked."""

    PATHS = ("/login/", "/admin/login/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path in self.PATHS:
            from leadflow.throttles import rate_limit_hit

            wait = rate_limit_hit(request, "login")
            if wait is not None:
                from django.shortcuts import render

                context = {"minutes": max(1, wait // 60), "per_address": True}
                page = render(request, "web/locked.html", context, status=429)
                page["Retry-After"] = str(wait)
                return page
        return self.get_response(request)
