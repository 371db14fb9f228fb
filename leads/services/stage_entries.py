"""Stage entries kept in step with the history (see `leads.models.StageEntry`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import connection

from leads.choices import LeadState
from leads.models import Lead, LeadTransition, StageEntry


def stage_entries_open(leads: Iterable[Lead]) -> None:
    """The `lead` entry of newly created leads."""
    StageEntry.objects.bulk_create(
        [
            StageEntry(
                lead_id=lead.pk,
                stage=LeadState.LEAD,
                entered_at=lead.created_at,
                source=lead.source,
                campaign=lead.campaign,
            )
            for lead in leads
        ]
    )


def stage_entries_move(rows: list[LeadTransition], leads: dict[int, Lead]) -> None:
    """Close each lead's open entry and open the entry of the state it moved to."""
    groups: dict[tuple[Any, str], list[int]] = defaultdict(list)
    for row in rows:  # one UPDATE per (time, target): a bulk MQL is a single statement
        groups[(row.occurred_at, row.to_state)].append(row.lead_id)
    for (at, to_state), lead_ids in groups.items():
        StageEntry.objects.filter(lead_id__in=lead_ids, left_at__isnull=True).update(
            left_at=at, next_state=to_state
        )
    StageEntry.objects.bulk_create(
        [
            StageEntry(
                lead_id=row.lead_id,
                stage=row.to_state,
                reentry=row.from_state == LeadState.RECYCLED,
                entered_at=row.occurred_at,
                team_id_at_entry=row.team_after_id,
                definition_id_at_entry=row.definition_id,
                source=leads[row.lead_id].source,
                campaign=leads[row.lead_id].campaign,
            )
            for row in rows
        ]
    )


def stage_entries_rebuild() -> int:
    """Rebuild every entry from the leads and the history, set-based (data loads, backfills)."""
    StageEntry.objects.all().delete()
    sql = """
        INSERT INTO leads_stageentry (lead_id, stage, reentry, entered_at, left_at, next_state,
                                      team_id_at_entry, definition_id_at_entry, source, campaign)
        WITH h AS (
            SELECT t.lead_id, t.to_state, t.from_state, t.occurred_at, t.definition_id, t.team_after_id,
                   LEAD(t.occurred_at) OVER w AS left_at, LEAD(t.to_state) OVER w AS next_state,
                   ROW_NUMBER() OVER w AS n
            FROM leads_leadtransition t
            WINDOW w AS (PARTITION BY t.lead_id ORDER BY t.occurred_at, t.id)
        )
        SELECT l.id, 'lead', FALSE, l.created_at, h.occurred_at, COALESCE(h.to_state, ''), NULL, NULL,
               l.source, l.campaign
        FROM leads_lead l LEFT JOIN h ON h.lead_id = l.id AND h.n = 1
        UNION ALL
        SELECT h.lead_id, h.to_state, h.from_state = 'recycled', h.occurred_at, h.left_at,
               COALESCE(h.next_state, ''), h.team_after_id, h.definition_id, l.source, l.campaign
        FROM h JOIN leads_lead l ON l.id = h.lead_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return int(cursor.rowcount)
