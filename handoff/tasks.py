"""Thin Celery tasks of the handoff app (idempotent and time-limited; `acks_late` for every task
is set once, in settings)."""

from typing import Any

from celery import shared_task

from handoff import notifications, services, webhooks
from leadflow.celery import limits

OPTIONS: dict[str, Any] = limits(300)


@shared_task(**OPTIONS)
def handoff_sla_sweep() -> dict[str, int]:
    return services.handoff_sla_sweep()


@shared_task(**OPTIONS)
def recycle_sweep() -> int:
    return services.recycle_sweep()


@shared_task(**OPTIONS)
def notify_task(kind: str, handoff_id: int) -> int:
    return notifications.notify(kind=kind, handoff_id=handoff_id)


@shared_task(**OPTIONS)
def webhook_deliver(delivery_id: int) -> str | None:
    return webhooks.webhook_attempt(delivery_id=delivery_id)


@shared_task(**OPTIONS)
def webhook_sweep() -> int:
    """Send every pending delivery whose time has come (lost enqueues, expired leases)."""
    ids = webhooks.webhook_due_ids()
    for pk in ids:
        webhooks.webhook_attempt(delivery_id=pk)
    return len(ids)
