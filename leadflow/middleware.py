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
