from celery import shared_task

from leads.services.idempotency import idempotency_purge as _purge


@shared_task(acks_late=True)
def idempotency_purge() -> int:
    return _purge()
