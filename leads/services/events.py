"""Behaviour events: bulk insert with client-id dedupe held by the unique constraint."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from leads.event_input import EventItem
from leads.models import Event, RescoreMark

# Called after commit with the ids of leads that received new events or whose fields were edited
# (the scoring app registers its rescore enqueue here; leads never imports it).
after_events: list[Callable[[list[int]], None]] = []
# Gives the SQL of an event's points (over the event alias `e`), its parameters and the key of
# the rules it stands for; registered by the scoring app. Without it, events store no points.
event_points: list[Callable[[], tuple[str, list[Any], int]]] = []


@dataclass(frozen=True)
class EventInput:
    """One validated event: the index it had in the request, and its lead already resolved."""

    index: int
    lead_id: int
    type: str
    occurred_at: datetime
    properties_json: str
    external_id: str | None

    @classmethod
    def of(cls, item: EventItem, *, index: int, lead_id: int) -> EventInput:
        """A parsed event item, once its lead is known."""
        return cls(
            index=index, lead_id=lead_id, type=item.type, occurred_at=item.occurred_at,
            properties_json=item.properties_json, external_id=item.external_id,
        )  # fmt: skip


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected}


def _insert(rows: list[EventInput]) -> int:
    """One INSERT … ON CONFLICT DO NOTHING for the batch; returns how many rows were new."""
    if not rows:
        return 0
    table = Event._meta.db_table
    now = timezone.now()
    if connection.vendor == "postgresql":
        # Five array parameters instead of six per row: nothing to parse per row.
        with connection.cursor() as cursor:
            columns: list[list[Any]] = [
                [r.lead_id for r in rows],
                [r.type for r in rows],
                [r.occurred_at for r in rows],
                [r.properties_json for r in rows],
                [r.external_id for r in rows],
            ]
            points_sql, points_params, key = "NULL", list[Any](), None
            if event_points:
                points_sql, points_params, key = event_points[0]()
            cursor.execute(
                f"INSERT INTO {table} "  # noqa: S608 - the table and the rules' own SQL
                "(lead_id, type, occurred_at, properties, external_id, received_at, points, "
                f"points_key) SELECT e.lead_id, e.type, e.occurred_at, e.properties, "
                f"e.external_id, %s, {points_sql}, %s "
                "FROM (SELECT l AS lead_id, t AS type, o AS occurred_at, p::jsonb AS properties, "
                "x AS external_id FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[], "
                "%s::text[], %s::text[]) AS u(l, t, o, p, x)) e "
                "ON CONFLICT (external_id) DO NOTHING RETURNING id",
                [now, *points_params, key, *columns],
            )
            return len(cursor.fetchall())
    values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
    params: list[Any] = []
    for r in rows:
        params += [r.lead_id, r.type, r.occurred_at, r.properties_json, r.external_id, now]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} "  # noqa: S608 - only placeholders are interpolated
            "(lead_id, type, occurred_at, properties, external_id, received_at) "
            f"VALUES {values} ON CONFLICT (external_id) DO NOTHING RETURNING id",
            params,
        )
        return len(cursor.fetchall())


def lead_score_mark(lead_ids: list[int]) -> None:
    """Mark leads for rescoring in the caller's transaction: one appended row each."""
    if connection.vendor == "postgresql":
        table = RescoreMark._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (lead_id) SELECT unnest(%s::bigint[])",
                [sorted(lead_ids)],
            )
        return
    RescoreMark.objects.bulk_create([RescoreMark(lead_id=i) for i in sorted(lead_ids)])


def lead_rescore_request(lead_ids: list[int]) -> None:
    """Mark the leads in the caller's transaction and ask for their rescore after it commits; if
    the ask is lost (broker down), the scoring sweep finds the marks."""
    lead_score_mark(lead_ids)
    for hook in after_events:
        transaction.on_commit(lambda hook=hook: hook(lead_ids))  # type: ignore[misc]


def event_ingest(*, events: list[EventInput]) -> IngestResult:
    """Store the events in bulk, mark their leads for rescoring, and announce them after commit."""
    result = IngestResult()
    # Duplicate ids inside one batch count once; the database drops repeats of earlier batches.
    seen: set[str] = set()
    unique: list[EventInput] = []
    for e in events:
        if e.external_id is not None and e.external_id in seen:
            result.duplicates += 1
            continue
        if e.external_id is not None:
            seen.add(e.external_id)
        unique.append(e)
    lead_ids = sorted({e.lead_id for e in unique})
    with transaction.atomic():
        inserted = 0
        for start in range(0, len(unique), 1000):
            inserted += _insert(unique[start : start + 1000])
        result.accepted = inserted
        result.duplicates += len(unique) - inserted
        if inserted:
            lead_rescore_request(lead_ids)
    return result
