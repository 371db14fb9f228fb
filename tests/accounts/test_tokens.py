"""API tokens end: after API_TOKEN_TTL_HOURS, when the password changes or the account is
deactivated; each login answers a fresh one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def _login(username: str, password: str) -> str:
    r = APIClient().post("/api/v1/auth/token/", {"username": username, "password": password},
                         format="json")  # fmt: skip
    assert r.status_code == 200
    return str(r.json()["token"])


def _reads(token: str) -> int:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return int(api.get("/api/v1/leads/").status_code)


def test_a_login_answers_a_fresh_token_and_ends_the_old_one(users: Any) -> None:
    first = _login("mika", "pw-marketing-1")
    second = _login("mika", "pw-marketing-1")
    assert first != second and _reads(first) == 401 and _reads(second) == 200


def test_a_token_expires_after_its_time(users: Any, settings: Any) -> None:
    token = _login("mika", "pw-marketing-1")
    settings.API_TOKEN_TTL_HOURS = 1
    Token.objects.filter(key=token).update(created=timezone.now() - timedelta(hours=2))
    assert _reads(token) == 401


@pytest.mark.parametrize("change", ["password", "deactivate"])
def test_new_credentials_end_every_token(change: str, users: Any) -> None:
    token = _login("mika", "pw-marketing-1")
    user = users["marketing"]
    if change == "password":
        user.set_password("a-brand-new-password-9")
    else:
        user.is_active = False
    user.save()
    assert _reads(token) == 401
    assert not Token.objects.filter(user=user).exists()


def test_saving_a_user_without_new_credentials_keeps_the_token(users: Any) -> None:
    token = _login("mika", "pw-marketing-1")
    user = users["marketing"]
    user.first_name = "Mika"
    user.save()
    assert _reads(token) == 200
