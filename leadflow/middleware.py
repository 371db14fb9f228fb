"""Request guards that must run before any view reads the body."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from leadflow.problems import problem_response


class BodySizeLimitMiddleware:
    """Refuse oversized bodies with 413 problem+json before anything parses them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
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
                413,
                "payload-too-large",
                "The request body is too large",
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
