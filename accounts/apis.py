"""The accounts' endpoints: a user's API token."""

from __future__ import annotations

from typing import Any

from axes.exceptions import AxesBackendPermissionDenied
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.serializers import TokenRequestSerializer, TokenResponseSerializer
from leadflow.problems import lockout_response
from leadflow.throttles import LoginRateLimit


class AuthTokenApi(APIView):
    """A token for a username and password: rate-limited per address, and locked for a
    username and address after `LOGIN_FAILURE_LIMIT` failures (django-axes)."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [LoginRateLimit]

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenResponseSerializer})
    def post(self, request: Request) -> Response | HttpResponse:
        s = TokenRequestSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        try:
            user = authenticate(
                request._request,
                username=s.validated_data["username"],
                password=s.validated_data["password"],
            )
        except AxesBackendPermissionDenied:
            # The same answer as the failure that locked the pair out (the axes middleware's).
            return lockout_response(request._request, None, None)
        if user is None or not user.is_active:
            raise serializers.ValidationError(
                {"password": ["Unable to log in with these credentials."]}
            )
        # A login like any other: django-axes clears the failures, last_login is stamped.
        user_logged_in.send(sender=user.__class__, request=request._request, user=user)
        # A fresh token at every login: an old one (perhaps leaked, perhaps expired) ends.
        Token.objects.filter(user=user).delete()
        token = Token.objects.create(user=user)
        return Response({"token": token.key})
