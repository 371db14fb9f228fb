"""A long task is never delivered twice at once: the broker's visibility timeout is longer than
any task may run, by construction, and acknowledgement after the work is set in one place."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from leadflow.celery import app


def test_every_task_ends_before_the_broker_would_deliver_it_again() -> None:
    app.loader.import_default_modules()
    ours = {n: t for n, t in app.tasks.items() if not n.startswith("celery.")}
    assert len(ours) > 10
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    for name, task in ours.items():
        limit = task.time_limit or settings.CELERY_TASK_TIME_LIMIT
        assert limit <= settings.CELERY_LONGEST_TASK_SECONDS < timeout, name
        assert task.acks_late and task.reject_on_worker_lost, name


def test_a_shorter_configured_visibility_timeout_is_raised_to_the_longest_task(
    monkeypatch: object,
) -> None:
    import importlib
    import os

    from leadflow import settings as module

    os.environ["CELERY_VISIBILITY_TIMEOUT"] = "3600"
    try:
        reloaded = importlib.reload(module)
        assert reloaded.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > 7200
        os.environ["CELERY_LONGEST_TASK_SECONDS"] = "4"  # a test's worker: still above it
        assert importlib.reload(module).CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > 4
    finally:
        del os.environ["CELERY_VISIBILITY_TIMEOUT"]
        os.environ.pop("CELERY_LONGEST_TASK_SECONDS", None)
        importlib.reload(module)


def test_acks_late_is_configured_once() -> None:
    root = Path(__file__).resolve().parents[2]
    tasks = [p for p in root.glob("*/tasks.py") if ".venv" not in p.parts]
    assert tasks and not [p for p in tasks if "acks_late=" in p.read_text()
                          or '"acks_late"' in p.read_text()]  # fmt: skip
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
