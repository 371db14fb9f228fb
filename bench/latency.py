"""Event posted → score updated → lead in mql → handoff visible, with a real Celery worker: the
time from sending an event batch for a lead that then meets the published MQL criteria to its
handoff row being committed, for each of `n` leads posted at a steady pace. `inside_sales`
publishes first a version that routes MQLs to an inside-sales team (SPEC §13)."""

from __future__ import annotations

import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

from bench.server import PORT, PROXY, ROOT

QUEUE = "bench-latency"


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    from leadflow.celery import app

    name = f"bench-{os.getpid()}@{os.uname().nodename}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "leadflow", "worker", "-c", "2", "-l", "WARNING",
         "--without-gossip", "--without-mingle", "-Q", QUEUE, "-n", name],
        cwd=ROOT, env={**env, "CELERY_TASK_DEFAULT_QUEUE": QUEUE}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not app.control.ping(destination=[name], timeout=0.5):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the Celery worker did not start")
    return proc


def _leads(n: int) -> list[int]:
    """Leads that meet every MQL criterion of the demo definition but engagement and need."""
    from accounts.services import user_add
    from leads.services.intake import lead_intake

    for i in range(4):
        user_add(username=f"bench-rep{i}", role="sales", team=f"Bench {i % 2}")
    stamp = int(time.time())
    return [
        lead_intake(fields={
            "email": f"latency{stamp}-{i}@example.co.jp", "company": "Bench KK", "title": "CTO",
            "phone": "+81312345678", "industry": "software", "source": "web_form",
        }).lead.pk
        for i in range(n)
    ]  # fmt: skip


def _route_through_inside_sales() -> None:
    """Publish the published version again with the IS stages, and an IS team to answer."""
    import copy

    from accounts.services import user_add
    from leads.selectors import definition_published
    from leads.services.definitions import definition_create, definition_publish

    for i in range(3):
        user_add(username=f"bench-is{i}", role="inside_sales", team="Bench IS")
    current = definition_published()
    assert current is not None
    document = copy.deepcopy(current.document)
    document["stages"]["mql"]["owner"] = "inside_sales"
    document["stages"]["tal"] = {"owner": "inside_sales", "sla_hours": 72}
    document["stages"]["tql"] = {"owner": "sales", "sla_hours": 24, "criteria": [
        {"code": "budget", "kind": "fields_present", "params": {"fields": ["budget"]}}]}  # fmt: skip
    draft = definition_create(name="bench with IS", document=document, actor=None)
    definition_publish(definition_id=draft.pk)


def measure(
    env: dict[str, str], key: str, n: int = 200, per_second: float = 20.0,
    inside_sales: bool = False,
) -> dict[str, Any]:  # fmt: skip
    from handoff.models import Handoff

    if inside_sales:
        _route_through_inside_sales()
    lead_ids = _leads(n)
    sent: dict[int, float] = {}
    seen: dict[int, float] = {}
    worker = _worker(env)

    def post() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        start = time.monotonic()
        for i, lead_id in enumerate(lead_ids):
            time.sleep(max(0.0, start + i / per_second - time.monotonic()))
            body = json.dumps([{"lead": lead_id, "type": "quote_request"} for _ in range(3)])
            sent[lead_id] = time.monotonic()
            conn.request("POST", "/api/v1/events/", body, {**PROXY, "Content-Type": "application/json",
                                                           "Authorization": f"Api-Key {key}"})  # fmt: skip
            r = conn.getresponse()
            assert r.status == 202, r.read()
            r.read()

    try:
        poster = threading.Thread(target=post)
        poster.start()
        deadline = time.monotonic() + n / per_second + 60
        while len(seen) < n and time.monotonic() < deadline:
            pending = [i for i in sent if i not in seen]
            if pending:
                now = time.monotonic()
                for lead_id in Handoff.objects.filter(lead_id__in=pending, stage="mql").values_list(
                    "lead_id", flat=True
                ):
                    seen[lead_id] = now
            time.sleep(0.02)
        poster.join()
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    seconds = sorted(seen[i] - sent[i] for i in seen)
    if inside_sales:
        to_is = Handoff.objects.filter(lead_id__in=lead_ids, team__function="inside_sales")
        assert to_is.count() == len(seen), "every MQL went to inside sales"
    return {
        "leads": n, "handed_off": len(seen), "p50_s": statistics.median(seconds),
        "p95_s": statistics.quantiles(seconds, n=20)[18], "max_s": seconds[-1],
    }  # fmt: skip
