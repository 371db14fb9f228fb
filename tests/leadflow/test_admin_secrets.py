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


def test_the_admin_writes_no_lead_and_the_database_holds_the_email_key(users: Any) -> None:
    """Leads are written through the services only: the admin cannot add or change one, and
    whatever writes a row, the e-mail key is trimmed and lower-case (a check constraint)."""
    from django.contrib.auth import get_user_model
    from django.db import IntegrityError, transaction

    from leads.models import Lead
    from tests.factories import make_lead

    admin_user = get_user_model().objects.create_superuser("root2", "r2@example.jp", "pw-root-2")
    client = Client()
    client.force_login(admin_user)
    assert client.get("/admin/leads/lead/add/").status_code == 403
    lead = make_lead(email="keep@example.jp")
    assert client.post(f"/admin/leads/lead/{lead.pk}/change/",
                       {"email": "Mixed@Example.COM"}).status_code == 403  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        Lead.objects.create(email="Mixed@Example.COM")
