"""`POST /forms/<public_key>/`: a plain HTML form on the company's site posts a lead here."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.services.webforms import webform_submit
from leadflow.clientip import client_ip
from leadflow.errors import Forbidden, NotFound, ValidationFailed
from leadflow.throttles import rate_limit_hit


def _origin(request: HttpRequest) -> str | None:
    """The page's origin: the Origin header, else the Referer's scheme and host."""
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        return origin
    referer = urlsplit(request.headers.get("Referer", ""))
    if referer.scheme and referer.netloc:
        return f"{referer.scheme}://{referer.netloc}"
    return None


@csrf_exempt  # posted from another site; the form's allowed origins stand in for the token
@require_POST
def form_post(request: HttpRequest, public_key: str) -> HttpResponse:
    wait = rate_limit_hit(request, "forms")
    if wait is not None:
        page = render(request, "web/form_refused.html", {"status": 429}, status=429)
        page["Retry-After"] = str(wait)
        return page
    try:
        submission = webform_submit(
            public_key=public_key, post=request.POST, origin=_origin(request),
            ip=client_ip(request) or None,
        )  # fmt: skip
    except NotFound:
        return render(request, "web/form_refused.html", {"status": 404}, status=404)
    except Forbidden:
        return render(request, "web/form_refused.html", {"status": 403}, status=403)
    except ValidationFailed as exc:
        return render(
            request, "web/form_refused.html", {"status": 400, "errors": exc.errors}, status=400
        )
    return HttpResponseRedirect(submission.redirect_to, status=303)
