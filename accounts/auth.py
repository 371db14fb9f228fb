"""`Authorization: Api-Key <key>` for machine clients (djangorestframework-api-key)."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.models import AnonymousUser
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts.models import ApiKey


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Use 'Authorization: Api-Key <key>'.")
        try:
            key = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("The API key is not valid.") from exc
        try:
            api_key = ApiKey.objects.get_from_key(key)
        except ApiKey.DoesNotExist as exc:
            raise exceptions.AuthenticationFailed("The API key is not valid.") from exc
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed("The API key has expired.")
        return AnonymousUser(), cast(ApiKey, api_key)

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
