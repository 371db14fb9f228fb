"""Faults: a Celery worker killed with SIGKILL in the middle of a webhook delivery and in the
middle of a recompute batch. After a restart the delivery completes, at least once as documented
(the receiver may see the killed attempt's request and the retry, under one delivery id) and is
recorded once; the recompute finishes with every lead scored once and qualified once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from handoff.choices import DeliveryStatus
from handoff.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from leadflow.celery import app
from tests.conftest import requires_worker, wait_for

pytestmark = [requires_worker, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def _worker(queue: str, **env: str) -> subprocess.Popen[bytes]:
    """A worker of its own queue (the session's worker does not see this test's tasks)."""
    s = connection.settings_dict
    environ = {
        **os.environ,
        "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CONN_MAX_AGE": "0",
        "WEBHOOK_ALLOWED_PRIVATE": "127.0.0.0/8",  # the test's receiver
        **env,
    }
    name = f"{queue}-{time.monotonic_ns()}@%h"
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "celery", "-A", "leadflow", "worker", "-P", "solo", "-l", "WARNING",
         "--without-gossip", "--without-mingle", "-Q", queue, "-n", name],
        cwd=ROOT, env=environ,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not app.control.ping(destination=[name.replace("%h", os.uname().nodename)], timeout=0.5):
        assert proc.poll() is None, "the worker exited"
        assert time.monotonic() < deadline, "the worker did not start"
    return proc


class HoldingReceiver:
    """Holds the first request open until released; answers 200 to every later one."""

    def __init__(self) -> None:
        self.deliveries: list[str] = []
        self.first_arrived, self.release = threading.Event(), threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.deliveries.append(self.headers["X-Leadflow-Delivery"])
                if len(receiver.deliveries) == 1:
                    receiver.first_arrived.set()
                    receiver.release.wait(30)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def test_a_worker_killed_mid_delivery_leaves_it_to_complete_once_after_restart(
    celery_worker: Any,
) -> None:
    from handoff.tasks import webhook_deliver, webhook_sweep
    from handoff.webhooks import webhook_due_ids

    queue = f"kill-{os.getpid()}"
    receiver = HoldingReceiver()
    worker = None
    try:
        sub = WebhookSubscription.objects.create(
            name="crm", url=receiver.url, secret="whsec-0123456789abcdef", event_types=[]
        )
        delivery = WebhookDelivery.objects.create(
            subscription=sub, event_type="handoff.created", payload={"lead": 1}
        )
        # A 2 s timeout gives the killed attempt a 6 s lease.
        worker = _worker(queue, WEBHOOK_TIMEOUT_SECONDS="2")
        webhook_deliver.apply_async((delivery.pk,), queue=queue)
        assert receiver.first_arrived.wait(30), "the worker never sent it"
        worker.send_signal(signal.SIGKILL)  # in the middle of the POST
        worker.wait(timeout=10)
        receiver.release.set()
        d = WebhookDelivery.objects.get(pk=delivery.pk)
        assert d.status == DeliveryStatus.PENDING and d.attempts == 0, "nothing was recorded"
        assert not WebhookAttempt.objects.filter(delivery=d).exists()

        worker = _worker(queue, WEBHOOK_TIMEOUT_SECONDS="2")
        # Until the killed attempt's lease runs out, no sweep may send it a second time.
        assert delivery.pk not in webhook_due_ids(), "still leased to the killed worker"
        wait_for(lambda: delivery.pk in webhook_due_ids(), timeout=30, what="the lease to end")
        webhook_sweep.apply_async(queue=queue)  # what beat sends every minute
        wait_for(
            lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SUCCEEDED,
            what="the retried delivery",
        )
        d = WebhookDelivery.objects.get(pk=delivery.pk)
        assert d.attempts == 1, "recorded once: the killed attempt left no row"
        assert WebhookAttempt.objects.filter(delivery=d, status_code=200).count() == 1
        # At least once, under one id: the killed attempt's request and the retry.
        assert receiver.deliveries == [str(d.pk), str(d.pk)]
        assert webhook_due_ids() == [], "nothing left due"
        webhook_sweep.apply_async(queue=queue)
        webhook_deliver.apply_async((delivery.pk,), queue=queue)  # a stray redelivery, too
        time.sleep(2)
        assert receiver.deliveries == [str(d.pk), str(d.pk)], "no third request"
        assert WebhookDelivery.objects.get(pk=d.pk).attempts == 1
    finally:
        receiver.close()
        if worker is not None and worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=20)


def test_a_worker_killed_mid_recompute_finishes_it_once_after_restart(
    celery_worker: Any, published_definition: Any, users: Any, default_rules: Any
) -> None:
    """The recompute is held on a row lock in its fourth chunk (three chunks written, their
    leads moved to mql), killed there, and delivered again to a new worker."""
    import psycopg
    from django.utils import timezone

    from leadflow.jobs import job_create
    from leadflow.models import Job
    from leads.models import Event, Lead, LeadScore, LeadTransition
    from scoring.tasks import score_recompute_job
    from tests.factories import make_lead

    queue = f"killrc-{os.getpid()}"
    leads = [
        make_lead(email=f"k{i}@example.jp", industry="software", company="Acme",
                  phone="03-1234-5678", title="CTO")
        for i in range(40)
    ]  # fmt: skip
    ids = sorted(lead.pk for lead in leads)
    Event.objects.bulk_create(
        [Event(lead_id=i, type="quote_request", occurred_at=timezone.now()) for i in ids for _ in range(3)]
    )  # fmt: skip  # stored without points, scored by no one yet: the recompute's to do
    job = job_create(kind="score_recompute", params={"reason": "fault test"})
    s = connection.settings_dict
    holder = psycopg.connect(f"postgresql://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}")
    worker = None
    try:
        held = ids[17]  # in the fourth chunk of five
        holder.execute("SELECT 1 FROM leads_leadscore WHERE lead_id = %s FOR UPDATE", [held])
        worker = _worker(queue, SCORING_CHUNK_SIZE="5", CELERY_LONGEST_TASK_SECONDS="4",
                         CELERY_VISIBILITY_TIMEOUT="5")  # fmt: skip
        score_recompute_job.apply_async((job.pk,), queue=queue)

        def blocked() -> bool:
            with connection.cursor() as c:
                c.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                          "AND datname = current_database() "  # not another test process's
                          "AND query LIKE 'UPDATE leads_leadscore%%'")  # fmt: skip
                return bool(c.fetchone()[0])

        wait_for(blocked, what="the recompute to reach the held row")
        assert 0 < Job.objects.get(pk=job.pk).progress < 1
        done_before = LeadTransition.objects.filter(lead_id__in=ids, to_state="mql").count()
        assert done_before == 15, "three chunks of five were written and qualified"
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        holder.rollback()  # the lock goes; the killed worker's transaction is rolled back
        # The unacknowledged message is older than the visibility timeout by the time the new
        # worker starts: it restores it then (kombu scans the unacked set at start-up).
        time.sleep(6)
        worker = _worker(queue, SCORING_CHUNK_SIZE="5", CELERY_LONGEST_TASK_SECONDS="4",
                         CELERY_VISIBILITY_TIMEOUT="5")  # fmt: skip
        wait_for(lambda: Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED,
                 timeout=60, what="the redelivered recompute")  # fmt: skip
        scores = set(LeadScore.objects.filter(lead_id__in=ids).values_list("engagement", flat=True))
        assert scores == {24}, "every lead scored, no points counted twice"
        assert set(Lead.objects.filter(pk__in=ids).values_list("state", flat=True)) == {"mql"}
        per_lead = LeadTransition.objects.filter(lead_id__in=ids, to_state="mql")
        assert per_lead.count() == 40 and per_lead.values("lead_id").distinct().count() == 40
    finally:
        holder.close()
        if worker is not None and worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=20)


def _pg(action: str) -> None:
    """Stop or start the server the suite uses: a throwaway one through the control script
    `scripts/with-services` left (LEADFLOW_PGCTL), else the machine's cluster."""
    if os.environ.get("LEADFLOW_PGCTL"):
        subprocess.run([os.environ["LEADFLOW_PGCTL"], action], check=True, capture_output=True)  # noqa: S603
        return
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(  # noqa: S603
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action, "-m", "fast"]
        if action == "stop" else
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
        check=True, capture_output=True,
    )  # fmt: skip


def _pg_ready() -> bool:
    from django.conf import settings

    port = str(settings.DATABASES["default"].get("PORT") or 5432)
    return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", port, "-q"],  # noqa: S603, S607
                          check=False).returncode == 0  # fmt: skip


@pytest.mark.serial
@pytest.mark.skipif(
    not (os.environ.get("LEADFLOW_PGCTL") or os.path.isdir("/etc/postgresql")),
    reason="needs a PostgreSQL server the suite may stop and start",
)
def test_postgresql_restarted_under_load_fails_cleanly_and_recovers(
    users: Any, intake_key: str
) -> None:
    """gunicorn (2 workers, persistent connections) under four clients posting intakes and
    reading lists; PostgreSQL is stopped for two seconds and started again. Every answer is a
    success or a 503 problem+json with Retry-After, /readyz says so meanwhile, the service
    recovers by itself, and every intake answered 201 is stored while no 503 wrote anything."""
    import http.client
    import json
    import socket

    from django.db import connections
    from rest_framework.authtoken.models import Token

    from leads.models import Lead

    token = Token.objects.create(user=users["coo"]).key
    s = connection.settings_dict
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}",
           "CONN_MAX_AGE": "60", "DEBUG": "false", "ALLOWED_HOSTS": "127.0.0.1",
           "RATE_LIMIT_INTAKE": "", "GUNICORN_WORKERS": "2", "LOG_LEVEL": "ERROR"}  # fmt: skip
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
         "--access-logfile", "/dev/null", "leadflow.wsgi"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    results: list[tuple[float, str, int, str, str | None, str]] = []
    stop = threading.Event()

    def request(conn: Any, method: str, path: str, body: Any, auth: str) -> tuple[int, str, Any]:
        conn.request(method, path, json.dumps(body) if body else None,
                     {"Authorization": auth, "Content-Type": "application/json"})  # fmt: skip
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type") or "", (r.getheader("Retry-After"), r.read())

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        i = 0
        while not stop.is_set():
            i += 1
            email = f"load{n}-{i}@example.jp"
            try:
                if i % 2:
                    code, ctype, (retry, body) = request(conn, "POST", "/api/v1/intake/",
                                                         {"email": email}, f"Api-Key {intake_key}")  # fmt: skip
                else:
                    code, ctype, (retry, body) = request(conn, "GET", "/api/v1/leads/?page_size=5",
                                                         None, f"Token {token}")  # fmt: skip
                    email = ""
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                code, ctype, retry, body = -1, "", None, b""
            results.append((time.monotonic(), email, code, ctype, retry, body[:300].decode()))
            time.sleep(0.01)

    try:
        wait_for(lambda: _http_ok(port), what="gunicorn")
        threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        down_at = time.monotonic()  # from the moment the stop begins
        _pg("stop")
        time.sleep(0.5)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/readyz")
        ready = conn.getresponse()
        readyz = (ready.status, json.loads(ready.read()))
        time.sleep(1.5)
        _pg("start")
        wait_for(_pg_ready, what="PostgreSQL back")
        up_at = time.monotonic()
        time.sleep(6)
        stop.set()
        for t in threads:
            t.join(timeout=20)
    finally:
        stop.set()
        if not _pg_ready():
            _pg("start")
            wait_for(_pg_ready, what="PostgreSQL back")
        server.terminate()
        server.wait(timeout=30)
        connections.close_all()  # the test's own connection died with the restart

    codes = {code for _, _, code, _, _, _ in results}
    odd = [r[2:] for r in results if r[2] not in (200, 201, 503)][:3]
    assert codes <= {200, 201, 503}, f"only successes and clean 503s: {sorted(codes)} {odd}"
    unavailable = [r for r in results if r[2] == 503]
    assert unavailable, "the outage was seen"
    assert all(r[3] == "application/problem+json" and r[4] for r in unavailable)
    late = [round(r[0] - up_at, 2) for r in unavailable if not down_at <= r[0] <= up_at + 3]
    assert late == [], "503s only while it was down, or reconnecting just after"
    assert readyz[0] == 503 and readyz[1]["checks"]["database"] is False
    after = [r for r in results if r[0] > up_at + 3]
    assert len(after) > 20 and all(r[2] in (200, 201) for r in after), "recovered by itself"
    created = {r[1] for r in results if r[2] == 201}
    refused = {r[1] for r in results if r[2] == 503 and r[1]}
    stored = set(Lead.objects.filter(email__startswith="load").values_list("email", flat=True))
    assert created <= stored, "nothing answered 201 was lost"
    assert not (refused & stored), "a 503 wrote nothing"
    assert len(created) > 50


def _http_ok(port: int) -> bool:
    import http.client

    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
