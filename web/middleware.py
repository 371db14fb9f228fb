"""The UI language: the user's own choice, else what the browser asks for (LocaleMiddleware).

The choice lives in `accounts.Profile` and is copied into the session at login and whenever it
changes, so pages read it without a query."""

from collections.abc import Callable
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils import translation

SESSION_KEY = "ui_language"


class UserLanguageMiddleware:
    """After authentication: a signed-in user with a chosen language gets it on every page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            return self.get_response(request)  # the API follows Accept-Language alone
        session = getattr(request, "session", None)
        try:
            language = session.get(SESSION_KEY) if session is not None else None
        except DatabaseError:  # the session store is down: the view answers 503 for it
            language = None
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


def remember_language(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """`user_logged_in`: the user's chosen language into the new session."""
    from accounts.models import Profile

    if request is None or not hasattr(request, "session"):
        return
    language = Profile.objects.filter(user_id=user.pk).values_list("language", flat=True).first()
    if language:
        request.session[SESSION_KEY] = language
    else:
        request.session.pop(SESSION_KEY, None)
