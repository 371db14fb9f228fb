"""Generated data, written with PostgreSQL COPY."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from leads.models import Event, Lead

INDUSTRIES = ["software", "manufacturing", "retail", "finance", "logistics"]
EVENT_TYPES = [("page_view", {"url": "/features/sso"}), ("page_view", {"url": "/pricing"}),
               ("page_view", {"url": "/blog/x"}), ("document_download", {}), ("quote_request", {}),
               ("webinar_attended", {})]  # fmt: skip


def _lead_columns() -> tuple[list[str], list[Any]]:
    """Column names and a template row of defaults (everything COPY must supply)."""
    template = Lead(email="x@example.jp")
    cols, values = [], []
    for f in Lead._meta.concrete_fields:
        if f.primary_key or f.generated:
            continue
        cols.append(f.column)
        value = f.get_db_prep_save(getattr(template, f.attname), connection)
        values.append(json.dumps(value.adapted) if hasattr(value, "adapted") else value)
    return cols, values


def copy_rows(table: str, cols: list[str], rows: Iterator[tuple[Any, ...]]) -> int:
    n = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def generate_leads(n: int, *, start: int = 0, seed: int = 7) -> int:
    rng = random.Random(seed + start)
    cols, template = _lead_columns()
    idx = {c: i for i, c in enumerate(cols)}
    now = timezone.now()

    def rows() -> Iterator[tuple[Any, ...]]:
        for i in range(start, start + n):
            row = list(template)
            row[idx["email"]] = f"bench{i}@example{i % 997}.co.jp"
            row[idx["industry"]] = rng.choice(INDUSTRIES)
            row[idx["company"]] = f"Company {i % 50000}"
            row[idx["title"]] = "Manager" if i % 3 else ""
            row[idx["phone"]] = f"+8131234{i % 10000:04d}"
            row[idx["company_size"]] = rng.choice([10, 50, 200, 1000, 5000])
            row[idx["created_at"]] = row[idx["updated_at"]] = now - timedelta(
                days=rng.uniform(0, 365)
            )
            row[idx["state_changed_at"]] = row[idx["created_at"]]
            yield tuple(row)

    copied = copy_rows(Lead._meta.db_table, cols, rows())
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO leads_leadscore (lead_id, fit, engagement, version) "
            "SELECT id, 0, 0, 0 FROM leads_lead ON CONFLICT DO NOTHING"
        )
    return copied


EVENT_COLS = ["lead_id", "type", "occurred_at", "properties", "external_id", "received_at"]


def event_rows(lead_ids: tuple[int, int], n: int, *, seed: int, prefix: str | None = None,
               now: datetime | None = None) -> Iterator[tuple[Any, ...]]:  # fmt: skip
    rng = random.Random(seed)
    now = now or timezone.now()
    lo, hi = lead_ids
    for i in range(n):
        etype, props = EVENT_TYPES[rng.randrange(len(EVENT_TYPES))]
        yield (rng.randint(lo, hi), etype, now - timedelta(days=rng.uniform(0, 365)), json.dumps(props),
               f"{prefix}-{i}" if prefix else None, now)  # fmt: skip


def generate_events(lead_ids: tuple[int, int], n: int, *, seed: int = 11) -> int:
    """COPY into a stage table, then one INSERT … SELECT that stores each event's points with the
    SQL the event insert of `POST /api/v1/events/` uses: the events arrive as if ingested."""
    from scoring.engine import event_points_sql

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE UNLOGGED TABLE bench_event_stage (lead_id bigint, type varchar(64), "
            "occurred_at timestamptz, properties jsonb, external_id varchar(128), "
            "received_at timestamptz)"
        )
    try:
        copied = copy_rows("bench_event_stage", EVENT_COLS, event_rows(lead_ids, n, seed=seed))
        points_sql, params, key = event_points_sql()
        cols = ", ".join(EVENT_COLS)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {Event._meta.db_table} ({cols}, points, points_key) "
                f"SELECT {', '.join(f'e.{c}' for c in EVENT_COLS)}, {points_sql}, %s "
                "FROM bench_event_stage e",
                [*params, key],
            )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE bench_event_stage")
    return copied


def analyze() -> None:
    """VACUUM (ANALYZE) what was generated, so autovacuum does not run during the measurements."""
    with connection.cursor() as cursor:
        for table in (Lead._meta.db_table, "leads_leadscore", Event._meta.db_table):
            cursor.execute(f"VACUUM (ANALYZE) {table}")


def store_points() -> int:
    """What a rule change costs: every event's stored points computed anew (`--repoint`)."""
    from scoring.services import events_repoint

    return events_repoint()["events"]
