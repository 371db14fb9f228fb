"""The periodic jobs in the web process, for the embedded mode (`make run`: SQLite, no broker,
no beat). The same `CELERY_BEAT_SCHEDULE` that beat runs in production, run by a thread with
each task executed in-process, so the demo retries webhooks, breaches SLAs, recycles and
rescores like production does."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from celery.schedules import maybe_schedule
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)


def run_task(name: str) -> None:
    """Run a registered task here and now (as the worker would, without the broker)."""
    from leadflow.celery import app

    app.loader.import_default_modules()  # the apps' tasks modules (autodiscovery is lazy)
    app.tasks[name].apply(throw=True)


class EmbeddedScheduler:
    """Which entries of a beat schedule are due, and running them. `clock` and `runner` are
    replaceable, so the timing is testable without waiting."""

    def __init__(
        self,
        schedule: dict[str, dict[str, Any]] | None = None,
        *,
        runner: Callable[[str], None] = run_task,
        clock: Callable[[], datetime] = timezone.now,
    ) -> None:
        from leadflow.celery import app

        entries = settings.CELERY_BEAT_SCHEDULE if schedule is None else schedule
        self.runner, self.clock = runner, clock
        self.entries = {
            name: (entry["task"], maybe_schedule(entry["schedule"], app=app))
            for name, entry in entries.items()
        }
        start = clock()
        self.last_run: dict[str, datetime] = dict.fromkeys(self.entries, start)
        self._stop = threading.Event()

    @staticmethod
    def next_run(schedule: Any, last: datetime) -> datetime:
        """When an entry that last ran at `last` is next due (an interval or a crontab)."""
        if hasattr(schedule, "remaining_delta"):
            start, ends_in, _now = schedule.remaining_delta(last)
            due: datetime = start + ends_in
            return due
        every: datetime = last + schedule.run_every
        return every

    def due(self) -> list[str]:
        now = self.clock()
        return [
            name
            for name, (_task, schedule) in self.entries.items()
            if self.next_run(schedule, self.last_run[name]) <= now
        ]

    def run_pending(self) -> list[str]:
        """Run every due entry once; a failing task is logged and tried again when next due."""
        ran = []
        for name in self.due():
            task = self.entries[name][0]
            self.last_run[name] = self.clock()
            try:
                self.runner(task)
                ran.append(name)
            except Exception:
                logger.exception("periodic task %s failed", task)
        return ran

    def start(self, tick: float = 5.0) -> threading.Thread:
        def loop() -> None:
            while not self._stop.wait(tick):
                self.run_pending()
                close_old_connections()  # the thread's own connection, as after a request

        thread = threading.Thread(target=loop, name="embedded-scheduler", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()
