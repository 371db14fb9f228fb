"""What every page shares: turning business errors into page feedback."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme

from leadflow.errors import Forbidden, LeadflowError, NotFound, ValidationFailed


def back(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    """Redirect to `next` (if it is ours) or the referring page of this site, else `fallback`."""
    for target in (request.POST.get("next"), request.GET.get("next")):
        if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return HttpResponseRedirect(target)
    return HttpResponseRedirect(fallback)


def error_text(exc: LeadflowError) -> str:
    """A business error in words: each problem named by its field's label, never its code."""
    from web.labels import label_of

    if isinstance(exc, ValidationFailed):
        return "; ".join(
            e.message if not label_of(e.field) else f"{label_of(e.field)}: {e.message}"
            for e in exc.errors
        )
    return str(exc.detail)


def field_errors(exc: ValidationFailed) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in exc.errors:
        out.setdefault(e.field, []).append(e.message)
    return out


def object_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A missing or unreadable object is a 404 page; a forbidden action a 403 page."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(str(exc.detail)) from exc
        except Forbidden as exc:
            raise PermissionDenied(str(exc.detail)) from exc

    return wrapped


def flash_error(request: HttpRequest, exc: LeadflowError) -> None:
    messages.error(request, error_text(exc))
