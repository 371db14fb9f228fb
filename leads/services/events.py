"""Behaviour events: bulk insert with client-id dedupe held by the unique constraint."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from leads.models import Event, Lead

# Called after commit with the ids of leads that received new events (the scoring app
# registers its rescore enqueue here; leads never imports it).
after_events: list[Callable[[list[int]], None]] = []


@dataclass(frozen=True)
class EventInput:
    """One validated event: the index it had in the request, and its lead already resolved."""

    index: int
    lead_id: int
    type: str
    occurred_at: datetime
    properties: dict[str, Any]
    external_id: str | None


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
    values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
    params: list[Any] = []
    for r in rows:
        params += [r.lead_id, r.type, r.occurred_at, json.dumps(r.properties), r.external_id, now]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} "  # noqa: S608 - only placeholders are interpolated
            "(lead_id, type, occurred_at, properties, external_id, received_at) "
            f"VALUES {values} ON CONFLICT (external_id) DO NOTHING RETURNING id",
            params,
        )
        return len(cursor.fetchall())


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
        for start in range(0, len(unique), 500):
            inserted += _insert(unique[start : start + 500])
        result.accepted = inserted
        result.duplicates += len(unique) - inserted
        if inserted:
            Lead.objects.filter(pk__in=lead_ids).update(
                needs_rescore=True, rescore_seq=F("rescore_seq") + 1
            )
            for hook in after_events:
                transaction.on_commit(lambda hook=hook: hook(lead_ids))  # type: ignore[misc]
    return result
