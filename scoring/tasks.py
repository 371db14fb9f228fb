"""Thin Celery tasks. All are idempotent (a recompute of the same data gives the same scores) and
time-limited; `acks_late` (set once, in settings) leaves the message of a worker killed mid-task
to be redelivered."""

from typing import Any

from celery import shared_task

from leadflow.celery import limits
from leadflow.jobs import job_create, job_run
from scoring import services


@shared_task(**limits(600))
def score_leads_task(lead_ids: list[int]) -> dict[str, int]:
    return services.score_leads(lead_ids=lead_ids)


@shared_task(**limits(600))
def score_sweep() -> dict[str, int]:
    return services.score_sweep()


@shared_task(**limits(7200))
def events_repoint_task() -> dict[str, int]:
    return services.events_repoint()


@shared_task(**limits(7200))
def score_recompute_job(job_id: int) -> Any:
    return job_run(
        job_id=job_id, work=lambda report: services.score_recompute(report=report)
    ).result


@shared_task(**limits(7200))
def score_recompute_nightly() -> Any:
    job = job_create(kind="score_recompute", params={"reason": "nightly decay"})
    result = job_run(
        job_id=job.pk, work=lambda report: services.score_recompute(report=report)
    ).result
    # Then store points on events that have none (COPY imports, seeds) or stale ones: the next
    # recomputes read them instead of evaluating the rules per event.
    services.events_repoint_enqueue()
    return result
