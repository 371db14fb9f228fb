"""Thin Celery tasks of the base app."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from leadflow.celery import limits
from leadflow.jobs import jobs_requeue


@shared_task(**limits(120))
def jobs_requeue_sweep() -> int:
    return jobs_requeue(older_than=timedelta(seconds=settings.JOB_REQUEUE_AFTER_SECONDS))
