"""The embedded mode (`make run`) runs the beat schedule in-process: due entries, and only those,
run their real tasks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from handoff.models import Handoff
from leadflow.scheduler import EmbeddedScheduler
from tests.factories import make_mql

MINUTE_SWEEPS = ["figure-rollups", "funnel-rollups", "handoff-sla-sweep", "jobs-requeue", "scoring-sweep",
                 "webhook-sweep"]  # fmt: skip


def test_the_schedule_runs_each_entry_when_it_is_due_and_not_before() -> None:
    now = [datetime(2026, 12, 6, 17, 0, tzinfo=UTC)]  # 02:00 in Tokyo
    ran: list[str] = []
    scheduler = EmbeddedScheduler(runner=ran.append, clock=lambda: now[0])
    assert scheduler.run_pending() == [], "nothing is due at start"
    now[0] += timedelta(seconds=59)
    assert scheduler.run_pending() == []
    now[0] += timedelta(seconds=2)
    assert sorted(scheduler.run_pending()) == MINUTE_SWEEPS
    assert scheduler.run_pending() == [], "an entry that ran waits for its next time"
    now[0] += timedelta(hours=1)  # 03:01 in Tokyo: the nightly recompute and the hourly jobs
    assert sorted(scheduler.run_pending()) == sorted(
        [*MINUTE_SWEEPS, "idempotency-purge", "recycle-sweep", "scoring-nightly-recompute"]
    )
    assert "scoring.tasks.score_recompute_nightly" in ran


def test_a_failing_task_is_logged_and_the_others_still_run(caplog: Any) -> None:
    now = [timezone.now()]

    def runner(task: str) -> None:
        if task.endswith("webhook_sweep"):
            raise RuntimeError("receiver down")

    scheduler = EmbeddedScheduler(runner=runner, clock=lambda: now[0])
    now[0] += timedelta(minutes=1, seconds=1)
    ran = scheduler.run_pending()
    assert "webhook-sweep" not in ran and "handoff-sla-sweep" in ran
    assert "periodic task handoff.tasks.webhook_sweep failed" in caplog.text


@pytest.mark.django_db
def test_the_embedded_schedule_breaches_an_overdue_handoff(
    users: Any, published_definition: Any
) -> None:
    lead = make_mql(email="late@example.jp")
    Handoff.objects.filter(lead=lead).update(due_at=timezone.now() - timedelta(minutes=5))
    now = [timezone.now()]
    scheduler = EmbeddedScheduler(clock=lambda: now[0])  # the real tasks, run in-process
    now[0] += timedelta(minutes=1, seconds=1)
    assert "handoff-sla-sweep" in scheduler.run_pending()
    assert Handoff.objects.get(lead=lead).breached_at is not None
