"""The admin shows no secret: not a webhook's signing secret, not a user's full API token."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from handoff.models import WebhookSubscription

pytestmark = pytest.mark.django_db


def test_the_admin_shows_neither_webhook_secrets_nor_token_keys(users: Any) -> None:
    from django.contrib.auth import get_user_model

    admin_user = get_user_model().objects.create_superuser("root", "r@example.jp", "pw-root-1")
    hook = WebhookSubscription.objects.create(name="w", url="https://h.example.jp/",
                                              secret="very-secret-signing-key", event_types=["*"])  # fmt: skip
    token = Token.objects.create(user=users["marketing"])
    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/admin/handoff/webhooksubscription/{hook.pk}/change/").content.decode()
    assert "very-secret-signing-key" not in page
    listing = client.get("/admin/authtoken/tokenproxy/").content.decode()
    assert token.key not in listing and token.key[:6] in listing
