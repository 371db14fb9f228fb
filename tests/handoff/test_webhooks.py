"""Outbound webhooks against a local receiver: signed, retried after a 500, logged."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from handoff.models import WebhookDelivery, WebhookSubscription
from handoff.tasks import webhook_sweep
from tests.factories import give_events, make_lead, set_engagement

SECRET = "whsec-0123456789abcdef"


class Receiver:
    """An HTTP server on 127.0.0.1 that answers 500 to the first `fail` requests, then 200."""

    def __init__(self, fail: int) -> None:
        self.requests: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                self.send_response(500 if len(receiver.requests) <= fail else 200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    expected = hmac.new(
        secret.encode(), headers["X-Leadflow-Timestamp"].encode() + b"." + body, hashlib.sha256
    )
    return hmac.compare_digest("sha256=" + expected.hexdigest(), headers["X-Leadflow-Signature"])


@pytest.mark.usefixtures("eager_tasks")
def test_signed_delivery_retried_after_500_and_logged(
    users: Any, published_definition: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from leads.services.transitions import lead_transition

    with Receiver(fail=1) as receiver:
        WebhookSubscription.objects.create(
            name="CRM", url=receiver.url, secret=SECRET, event_types=["handoff.opened"]
        )
        lead = make_lead()
        set_engagement(lead, 30)
        give_events(lead, "quote_request")
        with django_capture_on_commit_callbacks(execute=True):
            lead_transition(lead_id=lead.pk, name="qualify_mql", actor=None)
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            "pending",
            1,
            500,
        )
        assert delivery.next_attempt_at > timezone.now(), "retried later, with backoff"
        assert webhook_sweep() == 0, "not due yet"
        with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1)):
            assert webhook_sweep() == 1
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            "succeeded",
            2,
            200,
        )
        assert [a.status_code for a in delivery.log.all()] == [500, 200]
        assert len(receiver.requests) == 2
        for request in receiver.requests:
            assert verify(SECRET, request["headers"], request["body"])
            assert not verify("another-secret-entirely", request["headers"], request["body"])
            assert request["headers"]["X-Leadflow-Event"] == "handoff.opened"
        payload = json.loads(receiver.requests[0]["body"])
        assert payload["type"] == "handoff.opened" and payload["data"]["lead"] == lead.pk
        assert receiver.requests[0]["body"] == receiver.requests[1]["body"], (
            "the retry sends the same event"
        )


def test_gives_up_after_max_attempts(users: Any, published_definition: Any, settings: Any) -> None:
    from handoff.webhooks import webhook_attempt, webhook_emit

    settings.WEBHOOK_MAX_ATTEMPTS = 2
    with Receiver(fail=99) as receiver:
        WebhookSubscription.objects.create(
            name="X", url=receiver.url, secret=SECRET, event_types=["*"]
        )
        [pk] = webhook_emit(event_type="handoff.breached", payload={"handoff": 1})
        assert webhook_attempt(delivery_id=pk) == "pending"
        assert webhook_attempt(delivery_id=pk) is None, "not due: a second worker does not send it"
        WebhookDelivery.objects.filter(pk=pk).update(next_attempt_at=timezone.now())
        assert webhook_attempt(delivery_id=pk) == "failed"
    assert len(receiver.requests) == 2


def test_webhook_api_is_for_ops(client_for: Any, users: Any) -> None:
    body = {
        "name": "CRM",
        "url": "https://crm.example.jp/hook",
        "secret": SECRET,
        "event_types": ["handoff.opened", "transition.win"],
    }
    r = client_for("marketing").post("/api/v1/webhooks/", body, format="json")
    assert r.status_code == 201 and "secret" not in r.json()
    assert client_for("rep_a").post("/api/v1/webhooks/", body, format="json").status_code == 403
    assert client_for("rep_a").get("/api/v1/webhooks/").status_code == 403
    bad = {**body, "url": "ftp://x.example.jp/", "event_types": ["lead.exploded"]}
    errors = {
        e["field"]
        for e in client_for("coo").post("/api/v1/webhooks/", bad, format="json").json()["errors"]
    }
    assert {"url", "event_types.0"} <= errors
    sub = r.json()["id"]
    assert client_for("coo").get(f"/api/v1/webhooks/{sub}/deliveries/").json() == []


def test_a_subscriber_may_ask_for_every_transition() -> None:
    """SPEC §5/§13: `transition.<name>` for every lifecycle transition, inside sales' too."""
    from handoff.choices import WebhookEvent
    from leads.choices import TransitionName

    assert {f"transition.{t}" for t in TransitionName.values} <= set(WebhookEvent.values)
