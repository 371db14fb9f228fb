"""Log in and out, the language of the UI, and the pages for refused requests."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.http import require_GET, require_POST

from accounts.services import profile_set_language
from leadflow.problems import lockout_response as api_lockout_response
from web.middleware import SESSION_KEY
from web.roles import home_for
from web.views.base import back


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True


logout_view = auth_views.LogoutView.as_view()


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("web:login")
    return redirect(home_for(request.user))


@require_POST
def language(request: HttpRequest) -> HttpResponseRedirect:
    """The user's language ("" follows the browser); anonymous visitors keep it in a cookie."""
    code = request.POST.get("language", "")
    if code and code not in dict(settings.LANGUAGES):
        code = ""
    response = back(request, "/")
    if request.user.is_authenticated:
        profile_set_language(user=request.user, language=code)
        if code:
            request.session[SESSION_KEY] = code
        else:
            request.session.pop(SESSION_KEY, None)
    if code:
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, code, samesite="Lax")
        translation.activate(code)
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
    return response


def lockout_response(request: HttpRequest, response: Any, credentials: Any) -> HttpResponse:
    """django-axes' lockout: problem+json for the API, a page for the web login."""
    if request.path.startswith("/api/") or request.path.startswith("/admin/"):
        return api_lockout_response(request, response, credentials)
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    page = render(request, "web/locked.html", {"minutes": minutes}, status=429)
    page["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return page
