"""Every job starts through `job_start`: sent to its kind's task only after the caller's commit;
a send lost to the broker leaves it queued for `jobs_requeue`, which sends it by the same path."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction

from leadflow.jobs import job_start, job_tasks, jobs_requeue
from leadflow.models import Job

pytestmark = pytest.mark.django_db

KINDS = ["advisor", "backtest", "csv_import", "score_recompute", "win_model"]


class Broker:
    def __init__(self) -> None:
        self.up = True
        self.sent: list[tuple[str, int]] = []

    def task(self, name: str) -> Any:
        broker = self

        class Task:
            @staticmethod
            def apply_async(args: tuple[int], countdown: float | None = None) -> None:
                if not broker.up:
                    raise ConnectionError("broker down")
                broker.sent.append((name, *args))

        Task.name = name

        return Task


@pytest.fixture
def broker(monkeypatch: Any) -> Broker:
    b = Broker()
    monkeypatch.setattr("leadflow.jobs.import_string", b.task)
    return b


def test_every_kind_of_job_names_a_task_that_exists() -> None:
    from django.utils.module_loading import import_string

    assert sorted(job_tasks) == KINDS
    for name in job_tasks.values():
        assert import_string(name).name == name  # the dotted path is the task's name


def test_a_job_is_sent_after_the_commit_and_never_for_a_rollback(
    broker: Broker, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind="score_recompute", params={"reason": "test"})
        assert broker.sent == [], "nothing is sent before the commit"
    assert broker.sent == [(job_tasks["score_recompute"], job.pk)]

    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        job_start(kind="backtest")
        transaction.set_rollback(True)
    assert callbacks == [] and Job.objects.filter(kind="backtest").count() == 0


def test_a_send_lost_to_the_broker_is_made_by_the_requeue(
    broker: Broker, django_capture_on_commit_callbacks: Any
) -> None:
    broker.up = False
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind="csv_import", params={"import": 1})  # the request still succeeds
    assert broker.sent == [] and Job.objects.get(pk=job.pk).status == Job.Status.QUEUED

    assert jobs_requeue(older_than=timedelta(0)) == 0, "still down: nothing counted as sent"
    broker.up = True
    assert jobs_requeue(older_than=timedelta(0)) == 1
    assert broker.sent == [(job_tasks["csv_import"], job.pk)]
