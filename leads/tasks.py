from celery import shared_task

from leadflow.celery import limits
from leads.services.idempotency import idempotency_purge as _purge


@shared_task
def idempotency_purge() -> int:
    return _purge()


@shared_task(**limits(600))
def stage_rollups_compact() -> int:
    from leads.services.stage_entries import stage_rollups_compact as compact

    return compact()
