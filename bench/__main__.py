"""make bench: scoring and ingestion against their floors, on generated PostgreSQL data.

    make bench                      # N = 100,000 leads, 10·N events; then RSS at 10·N
    make bench ARGS="--leads 1000000 --no-scale"

It drops and recreates the database named by BENCH_DATABASE_URL (default: leadflow_bench on the
local PostgreSQL), prints one table and writes it as JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/leadflow_bench"
PORT = 8765


def _env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "leadflow.settings",
        "DATABASE_URL": url,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
        # Nobody consumes this queue: ingestion is measured without a worker competing for CPU.
        "CELERY_TASK_DEFAULT_QUEUE": "bench-unconsumed",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "LOG_LEVEL": "WARNING",
    }


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def timed(fn: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


FLOORS = {
    # The rules' points by event type, as a bare CASE.
    "case": "SUM(CASE type WHEN 'page_view' THEN 3 WHEN 'document_download' THEN 5 "
    "WHEN 'quote_request' THEN 8 ELSE 0 END)",
    # The points stored on each event: the bare SUM(points) of the issue, the stricter floor.
    "points": "SUM(points)",
}


def floor_seconds() -> dict[str, float]:
    """Bare GROUP BYs of points per lead over the same events: the floors of any recompute."""
    from django.conf import settings
    from django.db import connection

    best = dict.fromkeys(FLOORS, float("inf"))
    with connection.cursor() as cursor:
        # The same memory and JIT setting the recompute's aggregate pass gets: a fair floor.
        cursor.execute("SELECT set_config('work_mem', %s, false)", [settings.SCORING_WORK_MEM])
        cursor.execute("SELECT set_config('jit', 'off', false)")
        for _ in range(2):
            for name, agg in FLOORS.items():
                # sum(p) is selected so PostgreSQL cannot drop the unused aggregate.
                started = time.perf_counter()
                cursor.execute(
                    f"SELECT count(*), sum(p) FROM (SELECT lead_id, {agg} AS p "
                    "FROM leads_event GROUP BY lead_id) t"
                )
                cursor.fetchone()
                best[name] = min(best[name], time.perf_counter() - started)
    return best


def recompute_in_child(env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.recompute_child"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def orm_loop_seconds_per_lead(sample: int = 300) -> float:
    """The naive way: per lead, load its events with the ORM, add up points, save the lead."""
    from django.utils import timezone

    from leads.models import Lead
    from scoring import reference
    from scoring.choices import RuleKind
    from scoring.engine import active_rules

    rules = active_rules(RuleKind.ENGAGEMENT)
    leads = list(Lead.objects.order_by("?")[:sample])
    started = time.perf_counter()
    now = timezone.now()
    for lead in leads:
        total, _ = reference.engagement(rules, list(lead.events.all()), now)
        lead.scores.engagement = total
        lead.scores.save(update_fields=["engagement"])
    return (time.perf_counter() - started) / len(leads)


def http_ingestion(
    env: dict[str, str], lead_range: tuple[int, int], requests: int, clients: int = 4
) -> dict[str, float]:
    from accounts.services import api_key_create
    from bench.data import event_rows

    _, key = api_key_create(name="bench")
    bodies = []
    for r in range(requests):
        batch = [{"lead": lead_id, "type": etype, "occurred_at": at.isoformat(), "properties": json.loads(props), "id": ext}
                 for lead_id, etype, at, props, ext, _ in event_rows(lead_range, 1000, seed=1000 + r, prefix=f"http{r}")]  # fmt: skip
        bodies.append(json.dumps(batch).encode())
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{PORT}", "leadflow.wsgi"],
        cwd=ROOT, env={**env, "GUNICORN_WORKERS": "2"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        accepted = [0]
        lock = threading.Lock()

        def client(part: list[bytes]) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
            for body in part:
                conn.request("POST", "/api/v1/events/", body, {"Content-Type": "application/json",
                                                                "Authorization": f"Api-Key {key}"})  # fmt: skip
                resp = conn.getresponse()
                data = json.loads(resp.read())
                assert resp.status == 202, data
                with lock:
                    accepted[0] += data["accepted"]

        threads = [
            threading.Thread(target=client, args=(bodies[i::clients],)) for i in range(clients)
        ]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert accepted[0] == requests * 1000, accepted
    return {"events": accepted[0], "seconds": seconds, "per_second": accepted[0] / seconds}


def raw_copy(lead_range: tuple[int, int], n: int) -> dict[str, float]:
    from bench.data import EVENT_COLS, copy_rows, event_rows

    rows = list(event_rows(lead_range, n, seed=99, prefix="copy"))
    seconds, _ = timed(lambda: copy_rows("leads_event", EVENT_COLS, iter(rows)))
    return {"events": n, "seconds": seconds, "per_second": n / seconds}


def scale_figures(env: dict[str, str]) -> dict[str, Any]:
    from leads.models import Event, Lead

    floors = floor_seconds()
    child = recompute_in_child(env)
    return {"leads": Lead.objects.count(), "events": Event.objects.count(),
            "floor_s": min(floors.values()), "floor_case_s": floors["case"],
            "floor_points_s": floors["points"],
            "recompute_s": child["seconds"], "peak_rss_mb": child["peak_rss_mb"]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=100, help="HTTP batches of 1000 events")
    parser.add_argument("--no-scale", action="store_true", help="skip the 10·N run")
    parser.add_argument(
        "--repoint", action="store_true", help="last, time a rule change's repoint of every event"
    )
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    env = _env(url)
    os.environ.update(env)
    recreate_database(url)
    import django

    django.setup()
    from django.core.management import call_command

    from bench import data

    call_command("migrate", verbosity=0)
    n = args.leads
    print(f"generating {n:,} leads and {10 * n:,} events …", flush=True)
    gen_s, _ = timed(lambda: (data.generate_leads(n), data.generate_events((1, n), 10 * n)))
    data.analyze()
    at_n = scale_figures(env)
    orm_per_lead = orm_loop_seconds_per_lead()
    print("ingestion through HTTP …", flush=True)
    http = http_ingestion(env, (1, n), args.requests)
    copy = raw_copy((1, n), args.requests * 1000)
    report: dict[str, Any] = {
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, {platform.python_version()}",
        "at": datetime.now(UTC).isoformat(timespec="seconds"), "generate_s": gen_s, "at_n": at_n,
        "orm_loop_per_lead_s": orm_per_lead, "orm_loop_extrapolated_s": orm_per_lead * at_n["leads"],
        "http_ingestion": http, "raw_copy": copy,
    }  # fmt: skip
    if not args.no_scale:
        print(f"growing to {10 * n:,} leads and {100 * n:,} events …", flush=True)
        data.generate_leads(9 * n, start=n)
        data.generate_events((1, 10 * n), 90 * n, seed=12)
        data.analyze()
        report["at_10n"] = scale_figures(env)
    print("analytics: history, funnel, backtest …", flush=True)
    from bench import analytics

    analytics.run(report)
    if args.repoint:
        from scoring.models import ScoringRule

        print("a rule change: every event's stored points anew …", flush=True)
        rule = ScoringRule.objects.get(event_type="quote_request", property_key="")
        ScoringRule.objects.filter(pk=rule.pk).update(points=rule.points + 1)
        seconds, updated = timed(data.store_points)
        report["repoint"] = {"events": updated, "seconds": seconds}
    print_table(report)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"bench-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"\nwritten to {path.relative_to(ROOT)}")


def print_table(r: dict[str, Any]) -> None:
    n = r["at_n"]
    rows = [
        ("data", f"{n['leads']:,} leads / {n['events']:,} events", ""),
        ("GROUP BY floor: SUM(points)", f"{n['floor_points_s']:.2f} s", ""),
        ("GROUP BY floor: SUM(CASE type …)", f"{n['floor_case_s']:.2f} s", ""),
        ("full recompute", f"{n['recompute_s']:.2f} s", f"{n['recompute_s'] / n['floor_s']:.2f}× the lower floor (goal ≤ 3×)"),
        ("per-lead ORM loop (extrapolated)", f"{r['orm_loop_extrapolated_s']:.0f} s",
         f"recompute is {r['orm_loop_extrapolated_s'] / n['recompute_s']:.0f}× faster (goal ≥ 100×)"),
        ("recompute peak RSS", f"{n['peak_rss_mb']:.0f} MB", "goal ≤ 300 MB"),
        ("events via HTTP (1000/request)", f"{r['http_ingestion']['per_second']:,.0f} /s", ""),
        ("events via raw COPY", f"{r['raw_copy']['per_second']:,.0f} /s",
         f"HTTP is {100 * r['http_ingestion']['per_second'] / r['raw_copy']['per_second']:.0f}% of COPY (goal ≥ 25%)"),
    ]  # fmt: skip
    if "at_10n" in r:
        m = r["at_10n"]
        rows += [
            ("data ×10", f"{m['leads']:,} leads / {m['events']:,} events", ""),
            ("GROUP BY floor ×10: SUM(points)", f"{m['floor_points_s']:.2f} s", ""),
            ("GROUP BY floor ×10: SUM(CASE type …)", f"{m['floor_case_s']:.2f} s", ""),
            ("full recompute ×10", f"{m['recompute_s']:.2f} s", f"{m['recompute_s'] / m['floor_s']:.2f}× the lower floor (goal ≤ 3×)"),
            ("per-lead ORM loop ×10 (extrapolated)", f"{r['orm_loop_per_lead_s'] * m['leads']:.0f} s",
             f"recompute is {r['orm_loop_per_lead_s'] * m['leads'] / m['recompute_s']:.0f}× faster (goal ≥ 100×)"),
            ("recompute peak RSS ×10", f"{m['peak_rss_mb']:.0f} MB", f"{m['peak_rss_mb'] / n['peak_rss_mb']:.2f}× the RSS at N (goal ≤ 300 MB)"),
        ]  # fmt: skip
    if "analytics" in r:
        a = r["analytics"]
        rows += [
            ("history rows", f"{a['history_rows']:,}", ""),
            (
                "funnel report p50 / p95",
                f"{a['funnel_p50_ms']:.0f} / {a['funnel_p95_ms']:.0f} ms",
                "goal p95 ≤ 300 ms",
            ),
            (
                "funnel by source p50 / p95",
                f"{a['funnel_by_source_p50_ms']:.0f} / {a['funnel_by_source_p95_ms']:.0f} ms",
                "",
            ),
            (
                "backtest, a year of events",
                f"{a['backtest_s']:.1f} s",
                f"{a['backtest_would_be_mqls']:,} would-be MQLs",
            ),
        ]
    if "repoint" in r:
        rp = r["repoint"]
        rows.append(("repoint after a rule change", f"{rp['events']:,} events in {rp['seconds']:.0f} s", ""))  # fmt: skip
    width = max(len(a) for a, _, _ in rows)
    print(f"\n{r['machine']}  {r['at']}")
    for a, b, c in rows:
        print(f"  {a:<{width}}  {b:>28}  {c}")


if __name__ == "__main__":
    main()
