"""The Celery application. Tasks live in each app's `tasks.py` and stay thin."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadflow.settings")

app = Celery("leadflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def limits(seconds: int) -> dict[str, int]:
    """A task's time limits: `seconds`, never more than `CELERY_LONGEST_TASK_SECONDS` (which the
    broker's visibility timeout always exceeds), with the soft limit a little before."""
    from django.conf import settings

    hard = min(seconds, settings.CELERY_LONGEST_TASK_SECONDS)
    return {"time_limit": hard, "soft_time_limit": max(1, hard - max(1, hard // 50))}
