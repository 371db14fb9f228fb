"""Background jobs: create, report progress, finish. Progress writes commit on their own so a
poller sees them while the work runs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from leadflow.broker import task_send
from leadflow.errors import NotFound
from leadflow.models import Job

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from leadflow.types import Actor

logger = logging.getLogger(__name__)
REQUEUE_BATCH = 100

# The Celery task (its dotted path, which is also its name) that runs each kind of job with the
# job id as its one argument; every app registers its own kinds (`job_start`, `jobs_requeue`).
job_tasks: dict[str, str] = {}


def job_create(*, kind: str, params: dict[str, Any] | None = None, actor: Actor = None) -> Job:
    return Job.objects.create(kind=kind, params=params or {}, created_by=actor)


def job_start(*, kind: str, params: dict[str, Any] | None = None, actor: Actor = None) -> Job:
    """Create a job and send it to its kind's task once the caller's transaction commits. A send
    lost to a broker outage is logged and the job stays queued: `jobs_requeue` sends it again."""
    job = job_create(kind=kind, params=params, actor=actor)
    transaction.on_commit(lambda: _send(job))
    return job


def _send(job: Job) -> bool:
    return task_send(import_string(job_tasks[job.kind]), job.pk)


def job_progress(*, job_id: int, progress: float) -> None:
    Job.objects.filter(pk=job_id).update(
        progress=max(0.0, min(1.0, progress)), updated_at=timezone.now()
    )


def job_run(*, job_id: int, work: Callable[[Callable[[float], None]], Any]) -> Job:
    """Run `work(report)` for the job, recording running → succeeded/failed. Idempotent: a job
    that already finished is not run again, nor one another worker is running (its last progress
    is younger than the broker's visibility timeout). A job left `running` by a dead worker is
    older than that by the time its message is delivered again, and runs."""
    live_since = timezone.now() - timedelta(
        seconds=settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    )
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED):
            return job
        if job.status == Job.Status.RUNNING and job.updated_at > live_since:
            return job  # a second copy of the message (a requeue): the first is still at work
        job.status, job.started_at = Job.Status.RUNNING, timezone.now()
        job.save(update_fields=["status", "started_at", "updated_at"])
    try:
        result = work(lambda p: job_progress(job_id=job_id, progress=p))
    except Exception as exc:
        logger.exception("job %s failed", job_id)
        Job.objects.filter(pk=job_id).update(
            status=Job.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.SUCCEEDED, progress=1.0, result=result, finished_at=timezone.now()
    )
    return Job.objects.get(pk=job_id)


def jobs_requeue(*, older_than: timedelta) -> int:
    """Send again every job still queued `older_than` after it was created or last sent: its
    enqueue was lost to a broker outage, or it waits behind a long queue. A copy that arrives
    while the job runs does nothing (`job_run`); one after it finished does nothing either."""
    cutoff = timezone.now() - older_than
    jobs = Job.objects.filter(status=Job.Status.QUEUED, updated_at__lt=cutoff, kind__in=job_tasks)
    sent = 0
    for job in jobs.order_by("pk").only("pk", "kind")[:REQUEUE_BATCH]:
        if not _send(job):
            break  # still down: the next sweep tries again
        Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(updated_at=timezone.now())
        sent += 1
    return sent


def job_get(*, job_id: int, user: User) -> Job:
    """A job the user started; the COO and superusers see every job."""
    from leadflow.permissions import Can, may

    qs = Job.objects.all()
    if not may(user, Can.SEE_ALL_JOBS):
        qs = qs.filter(created_by=user)
    try:
        return qs.get(pk=job_id)
    except (Job.DoesNotExist, ValueError) as exc:
        raise NotFound(f"No job {job_id}.") from exc
