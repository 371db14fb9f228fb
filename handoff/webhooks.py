"""Outbound webhooks: deliveries written in the transaction of the change, sent after commit,
signed with HMAC-SHA256, retried with exponential backoff, logged per attempt (at least once)."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from handoff import destinations
from handoff.choices import DeliveryStatus
from handoff.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from leadflow.broker import task_send

logger = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Leadflow-Signature"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>." + body): receivers recompute it and
    reject a stale timestamp, so a captured request cannot be replayed later."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def webhook_emit(*, event_type: str, payload: dict[str, Any]) -> list[int]:
    """Queue `event_type` for every active subscriber that wants it (inside the caller's
    transaction); each delivery is enqueued after commit."""
    body = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    subs = [s for s in WebhookSubscription.objects.filter(is_active=True) if s.wants(event_type)]
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(subscription=s, event_type=event_type, payload=body) for s in subs]
    )
    ids = [d.pk for d in deliveries]
    if ids:
        transaction.on_commit(lambda: _enqueue(ids))
    return ids


def _enqueue(ids: list[int], countdown: float = 0) -> None:
    from handoff.tasks import webhook_deliver

    for pk in ids:
        task_send(webhook_deliver, pk, countdown=countdown)  # lost: webhook_sweep sends it


def _claim(delivery_id: int) -> WebhookDelivery | None:
    """Take a due delivery with a lease, so a concurrent worker or sweep does not send it too;
    if this worker dies mid-send, the lease runs out and the sweep retries it."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS * 3)
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now,
        subscription__is_active=True,
    ).update(next_attempt_at=lease)  # fmt: skip
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)


def _post(delivery: WebhookDelivery) -> tuple[int | None, str, bool]:
    """(status code or None, the error, whether retrying is pointless)."""
    body = json.dumps(
        {"id": delivery.pk, "type": delivery.event_type, "data": delivery.payload},
        ensure_ascii=False,
    ).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "leadflow-webhooks/1",
        "X-Leadflow-Event": delivery.event_type,
        "X-Leadflow-Delivery": str(delivery.pk),
        "X-Leadflow-Timestamp": timestamp,
        SIGNATURE_HEADER: signature(delivery.subscription.secret, timestamp, body),
    }
    try:
        status = destinations.post(
            delivery.subscription.url, body, headers, settings.WEBHOOK_TIMEOUT_SECONDS
        )
    except destinations.UnsafeDestination as exc:
        return None, str(exc)[:500], True
    except TimeoutError:
        return None, "timed out", False
    except (OSError, ValueError, http.client.HTTPException):
        # No errno or reason: the log must not tell which ports of a host are open.
        return None, "could not deliver", False
    return status, "", False


def webhook_attempt(*, delivery_id: int) -> str | None:
    """One attempt at a due delivery; returns its new status, or None if it was not due/ours."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    started = time.monotonic()
    code, error, final = _post(delivery)
    now = timezone.now()
    WebhookAttempt.objects.create(
        delivery=delivery,
        attempted_at=now,
        status_code=code,
        error=error,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    delivery.attempts += 1
    delivery.last_status_code = code
    retry_in: float | None = None
    if code is not None and 200 <= code < 300:
        delivery.status, delivery.delivered_at = DeliveryStatus.SUCCEEDED, now
    elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS or final:
        delivery.status = DeliveryStatus.FAILED
    else:
        retry_in = settings.WEBHOOK_BACKOFF_SECONDS * 2 ** (delivery.attempts - 1)
        delivery.next_attempt_at = now + timedelta(seconds=retry_in)
    delivery.save(
        update_fields=[
            "attempts",
            "last_status_code",
            "status",
            "delivered_at",
            "next_attempt_at",
            "updated_at",
        ]
    )
    if retry_in is not None:  # after the save: the retry must find the row as it is now
        _enqueue([delivery.pk], countdown=retry_in)
    return delivery.status


def webhook_due_ids(limit: int = 500) -> list[int]:
    return list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
