"""Webhooks go to public addresses only (SSRF): refused at save and at delivery, never a
redirect followed, no detail of a failed connection in the log; a switched-off hook cancels its
pending retries. The tests' receivers listen on loopback through the explicit allow-list."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.utils import timezone

from handoff.choices import DeliveryStatus
from handoff.models import WebhookDelivery, WebhookSubscription
from handoff.services import subscription_save
from handoff.webhooks import webhook_attempt

pytestmark = pytest.mark.django_db
BODY = {"name": "w", "secret": "s" * 20, "event_types": ["*"]}


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000/", "http://localhost/", "http://169.254.169.254/latest/meta-data/",
     "http://10.1.2.3/", "http://192.168.0.10/", "http://172.16.5.5/", "http://[::1]/",
     "http://metadata.google.internal/", "https://user:pass@hooks.example.co.jp/",
     "ftp://hooks.example.co.jp/", "http://intranet/"],
)  # fmt: skip
def test_a_non_public_destination_is_refused_at_save(
    url: str, client_for: Any, users: Any, settings: Any
) -> None:
    settings.WEBHOOK_ALLOWED_PRIVATE = []
    r = client_for("coo").post("/api/v1/webhooks/", {**BODY, "url": url}, format="json")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "url", url
    assert not WebhookSubscription.objects.exists()


class Redirector(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_POST(self) -> None:
        Redirector.hits.append(self.path)
        self.send_response(302)
        self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


def _delivery(url: str) -> WebhookDelivery:
    sub = WebhookSubscription.objects.create(name="w", url=url, secret="s" * 20,
                                             event_types=["*"])  # fmt: skip
    return WebhookDelivery.objects.create(subscription=sub, event_type="handoff.opened",
                                          payload={}, next_attempt_at=timezone.now())  # fmt: skip


def test_a_redirect_is_an_answer_never_followed(users: Any) -> None:
    server = HTTPServer(("127.0.0.1", 0), Redirector)
    threading.Thread(target=server.handle_request, daemon=True).start()
    d = _delivery(f"http://127.0.0.1:{server.server_port}/hook")
    webhook_attempt(delivery_id=d.pk)
    d.refresh_from_db()
    assert Redirector.hits == ["/hook"] and d.last_status_code == 302
    assert d.status == DeliveryStatus.PENDING, "retried later, not followed"
    server.server_close()


def test_a_destination_that_became_private_is_refused_at_delivery(
    users: Any, settings: Any
) -> None:
    d = _delivery("http://127.0.0.1:9/hook")  # saved while allowed
    settings.WEBHOOK_ALLOWED_PRIVATE = []
    assert webhook_attempt(delivery_id=d.pk) == DeliveryStatus.FAILED
    assert "public addresses only" in d.log.get().error


def test_a_closed_port_leaves_no_detail_in_the_log(users: Any) -> None:
    d = _delivery("http://127.0.0.1:9/hook")  # the discard port: nothing listens
    webhook_attempt(delivery_id=d.pk)
    assert d.log.get().error == "could not deliver", "no errno or reason to scan ports with"


def test_switching_a_hook_off_cancels_its_pending_retries(users: Any) -> None:
    d = _delivery("http://127.0.0.1:9/hook")
    subscription_save(subscription_id=d.subscription_id, is_active=False)
    d.refresh_from_db()
    assert d.status == DeliveryStatus.CANCELLED
    assert webhook_attempt(delivery_id=d.pk) is None, "nothing is sent for a switched-off hook"


def test_a_name_that_does_not_resolve_yet_is_saved_in_any_language(
    client_for: Any, users: Any, settings: Any
) -> None:
    settings.WEBHOOK_ALLOWED_PRIVATE = []
    url = "https://hooks.nowhere.invalid/leadflow"
    for language in ("en", "ja"):
        r = client_for("coo").post("/api/v1/webhooks/", {**BODY, "url": url},
                                   format="json", HTTP_ACCEPT_LANGUAGE=language)  # fmt: skip
        assert r.status_code == 201, (language, r.content)
