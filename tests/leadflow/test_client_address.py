"""The client's address behind a trusted proxy (X-Forwarded-For), and directly; the web and
admin logins are limited per address."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, RequestFactory

from leadflow.clientip import client_ip

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "client"),
    [
        ([], "203.0.113.5", "198.51.100.7", "203.0.113.5"),  # no proxy configured: ignored
        (["10.0.0.0/8"], "203.0.113.5", "198.51.100.7", "203.0.113.5"),  # spoofed by a client
        (["10.0.0.0/8"], "10.0.0.2", "198.51.100.7", "198.51.100.7"),  # behind our proxy
        (["10.0.0.0/8"], "10.0.0.2", "1.2.3.4, 198.51.100.7, 10.0.0.9", "198.51.100.7"),
        (["10.0.0.0/8", "::1/128"], "::1", "2001:db8::1", "2001:db8::1"),
        (["10.0.0.0/8"], "10.0.0.2", "not-an-ip", "10.0.0.2"),
        (["10.0.0.0/8"], "10.0.0.2", "", "10.0.0.2"),
    ],
)
def test_the_client_is_read_through_trusted_proxies_only(
    trusted: list[str], remote: str, forwarded: str, client: str, settings: Any
) -> None:
    settings.TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == client


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_many_usernames_from_one_address_are_limited_and_others_are_not(
    path: str, settings: Any, users: Any
) -> None:
    settings.RATE_LIMITS = {"login": "5/m"}
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    from django.core.cache import cache

    cache.clear()
    client = Client()
    codes = [client.post(path, {"username": f"user{i}", "password": "x"},
                         REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7").status_code
             for i in range(7)]  # fmt: skip
    assert codes[:5] != [429] * 5 and codes[5:] == [429, 429]
    other = client.post(path, {"username": "mika", "password": "x"},
                        REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.8")  # fmt: skip
    assert other.status_code != 429, "another visitor behind the same proxy is not locked out"
