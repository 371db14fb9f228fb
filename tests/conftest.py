from __future__ import annotations

import copy
from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.services import api_key_create, user_add
from leads.services.definitions import definition_create, definition_publish

DEFINITION: dict[str, Any] = {
    "stages": {
        "lead": {"owner": "marketing"},
        "mql": {
            "owner": "sales",
            "sla_hours": 24,
            "criteria": [
                {
                    "code": "engaged",
                    "kind": "score_at_least",
                    "params": {"score": "engagement", "value": 20},
                },
                {
                    "code": "icp",
                    "kind": "field_in",
                    "params": {"field": "industry", "values": ["software", "manufacturing"]},
                },
                {
                    "code": "contactable",
                    "kind": "fields_present",
                    "params": {"fields": ["company", "phone", "title"]},
                },
                {
                    "code": "need",
                    "kind": "activity_within",
                    "params": {"types": ["quote_request", "demo_request"], "days": 30},
                },
            ],
        },
        "sal": {"owner": "sales", "sla_hours": 72},
        "sql": {
            "owner": "sales",
            "criteria": [
                {
                    "code": "decision_maker",
                    "kind": "field_true",
                    "params": {"field": "decision_maker"},
                },
                {"code": "budget", "kind": "fields_present", "params": {"fields": ["budget"]}},
                {
                    "code": "timeline",
                    "kind": "date_within",
                    "params": {"field": "timeline", "days": 180},
                },
            ],
        },
        "recycled": {"owner": "marketing", "cooloff_days": 30},
        "lost": {"owner": "sales", "cooloff_days": 90},
    }
}

requires_postgres = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="needs PostgreSQL (set DATABASE_URL)",
)


def definition_document() -> dict[str, Any]:
    return copy.deepcopy(DEFINITION)


def inside_sales_document() -> dict[str, Any]:
    """The same definition with inside sales between marketing and field sales (SPEC §13): IS
    answers MQLs within 4 hours, qualifies within 3 days what it heard budget and timing of."""
    doc = definition_document()
    doc["stages"]["mql"]["owner"] = "inside_sales"
    doc["stages"]["mql"]["sla_hours"] = 4
    doc["stages"]["tal"] = {"owner": "inside_sales", "sla_hours": 72}
    doc["stages"]["tql"] = {"owner": "sales", "sla_hours": 24, "criteria": [
        {"code": "budget", "kind": "fields_present", "params": {"fields": ["budget"]}},
        {"code": "timing", "kind": "date_within", "params": {"field": "timeline", "days": 180}},
    ]}  # fmt: skip
    return doc


@pytest.fixture
def inside_sales(db: Any, users: dict[str, Any]) -> dict[str, Any]:
    """An inside-sales team in Tokyo (two reps, its manager) and a published definition that
    routes MQLs through it; field sales are the `users` teams A and B."""
    world = {
        "is_rep": user_add(username="imai", role="inside_sales", team="IS Tokyo",
                           password="pw-is-1"),
        "is_rep2": user_add(username="ishii", role="inside_sales", team="IS Tokyo",
                            password="pw-is-2"),
        "is_manager": user_add(username="iwata", role="sales_manager", team="IS Tokyo",
                               password="pw-is-mgr-1"),
    }  # fmt: skip
    d = definition_create(name="With IS", document=inside_sales_document(), actor=users["coo"])
    world["definition"] = definition_publish(definition_id=d.pk)
    return world


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def published_definition(db: Any, users: dict[str, Any]) -> Any:
    d = definition_create(name="FY2027 H1", document=definition_document(), actor=users["coo"])
    return definition_publish(definition_id=d.pk)


@pytest.fixture
def users(db: Any) -> dict[str, Any]:
    """One user per role; reps and a manager in team A, a rep and a manager in team B."""
    return {
        "marketing": user_add(username="mika", role="marketing", password="pw-marketing-1"),
        "coo": user_add(username="chief", role="coo", password="pw-coo-1"),
        "rep_a": user_add(username="aoki", role="sales", team="Team A", password="pw-rep-a-1"),
        "rep_a2": user_add(username="abe", role="sales", team="Team A", password="pw-rep-a2-1"),
        "manager_a": user_add(
            username="ando", role="sales_manager", team="Team A", password="pw-mgr-a-1"
        ),
        "rep_b": user_add(username="baba", role="sales", team="Team B", password="pw-rep-b-1"),
        "manager_b": user_add(
            username="bando", role="sales_manager", team="Team B", password="pw-mgr-b-1"
        ),
    }


@pytest.fixture
def client_for(users: dict[str, Any]) -> Any:
    def make(who: str | Any) -> APIClient:
        client = APIClient()
        client.force_authenticate(users[who] if isinstance(who, str) else who)
        return client

    return make


@pytest.fixture
def intake_key(db: Any) -> str:
    _, key = api_key_create(name="website")
    return key


@pytest.fixture
def key_client(intake_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {intake_key}")
    return client


__all__ = [
    "definition_document",
    "requires_postgres",
    "requires_worker",
    "run_parallel",
    "wait_for",
]


@pytest.fixture
def default_rules(db: Any) -> None:
    """The default scoring rules, for transactional tests (their flush removes migration data)."""
    import importlib

    from django.apps import apps

    importlib.import_module("scoring.migrations.0002_default_rules").seed(apps, None)


requires_worker = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"] or not settings.REDIS_URL,
    reason="needs PostgreSQL and Redis (set DATABASE_URL and REDIS_URL)",
)


@pytest.fixture(scope="session")
def celery_worker(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """A real Celery worker process on the Redis broker, using the test database."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    from django.db import connection

    from leadflow.celery import app

    name = connection.settings_dict["NAME"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{connection.settings_dict['USER']}@{connection.settings_dict['HOST']}:"
        f"{connection.settings_dict['PORT']}/{name}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CONN_MAX_AGE": "0",
        "WEBHOOK_ALLOWED_PRIVATE": "127.0.0.0/8",
    }
    root = Path(__file__).resolve().parent.parent
    _shut_down_orphans(app)
    worker_name = f"test-{os.getpid()}@{os.uname().nodename}"
    celery = [sys.executable, "-m", "celery", "-A", "leadflow"]
    subprocess.run([*celery, "purge", "-f"], cwd=root, env=env, check=True, capture_output=True)  # noqa: S603
    proc = subprocess.Popen(  # noqa: S603
        [*celery, "worker", "-P", "solo", "-l", "WARNING", "--without-gossip", "--without-mingle",
         "-n", worker_name],
        cwd=root, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not app.control.ping(destination=[worker_name], timeout=0.5):
        assert proc.poll() is None, "the Celery worker exited"
        assert time.monotonic() < deadline, "the Celery worker did not start"
    _running_worker.append(worker_name)
    yield proc
    _running_worker.clear()
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def _shut_down_orphans(app: Any) -> None:
    """A test worker left behind by an interrupted run (its pytest is gone) would take this
    run's tasks from the shared queue against the wrong database: shut such workers down."""
    import os
    import re

    host = os.uname().nodename
    for reply in app.control.ping(timeout=1.0) or []:
        for name in reply:
            m = re.fullmatch(rf"test-(\d+)@{re.escape(host)}", name)
            if m is None:
                continue
            try:
                os.kill(int(m.group(1)), 0)
            except ProcessLookupError:
                app.control.shutdown(destination=[name])


# The session worker's name while it runs: every transactional test then waits for it to finish
# what the test enqueued, so that no task of one test writes while the next one flushes.
_running_worker: list[str] = []


def _worker_idle(name: str) -> bool:
    """Nothing waits in the default queue or is held unacknowledged from it, and the (solo)
    worker answers a ping, which it does only between tasks."""
    import json

    import redis

    from leadflow.celery import app

    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    r = redis.Redis.from_url(settings.REDIS_URL)
    if r.llen(queue):
        return False
    for raw in r.hvals("unacked"):
        try:
            if json.loads(raw)[2] == queue:
                return False
        except (ValueError, IndexError, TypeError):
            continue
    return bool(app.control.ping(destination=[name], timeout=1.0))


@pytest.fixture(autouse=True)
def _worker_drained(request: Any) -> Any:
    """Set up after pytest-django's database fixtures, so torn down before their flush."""
    yield
    marker = request.node.get_closest_marker("django_db")
    if not _running_worker or marker is None or not marker.kwargs.get("transaction"):
        return
    name = _running_worker[0]
    # Twice in a row: a message fetched between the queue check and the ping is then seen.
    wait_for(
        lambda: _worker_idle(name) and _worker_idle(name),
        timeout=120,
        what="the Celery worker to finish the test's tasks",
    )


def wait_for(predicate: Any, timeout: float = 30.0, what: str = "condition") -> None:
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def eager_tasks() -> Any:
    """Run Celery tasks in-process for one test (on_commit callbacks still need capturing)."""
    from leadflow.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture(autouse=True)
def _loopback_webhooks(settings: Any) -> None:
    """The tests' webhook receivers listen on loopback: allowed here as an explicit exception
    (production sends to public addresses only); the SSRF tests clear it."""
    settings.WEBHOOK_ALLOWED_PRIVATE = ["127.0.0.0/8"]


@pytest.fixture(autouse=True)
def _no_rate_limits(settings: Any) -> None:
    """Rate limits count per client across tests in the shared cache; only the tests of the
    limits themselves (tests/leadflow/test_abuse.py) switch them on, with their own rates."""
    settings.RATE_LIMITS = {}


def run_parallel(n: int, fn: Any, workers: int | None = None) -> list[Any]:
    """Start `n` calls of `fn` as close together as threads allow; each closes its connection."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    barrier = threading.Barrier(min(n, workers or n))

    def call(i: int) -> Any:
        try:
            if i < barrier.parties:
                barrier.wait(timeout=30)
            return fn(i)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers or n) as pool:
        return list(pool.map(call, range(n)))


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    """`make test` runs everything: with LEADFLOW_NO_SKIPS set, a skipped test fails the run."""
    import os

    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if os.environ.get("LEADFLOW_NO_SKIPS") and skipped and session.exitstatus == 0:
        reporter.write_line(
            f"{skipped} test(s) skipped: `make test` runs everything (see the skip reasons above)",
            red=True,
        )
        session.exitstatus = 1
