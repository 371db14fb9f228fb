"""Stage entries and the funnel rollups, kept in step with the history (see
`leads.models.StageEntry`, `StageDelta` and `StageRollup`)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from leads.choices import LeadState
from leads.durations import (
    OPEN,
    WATERFALL_NEXT,
    bucket_of,
    bucket_sql,
    is_converted,
    is_reentry,
    report_zone,
)
from leads.models import Lead, LeadTransition, StageDelta, StageEntry, StageRollup

# What a delta is keyed on: day, stage, reentry, bucket, source, campaign, team, definition, lane.
DeltaKey = tuple[Any, str, bool, int, str, str, int | None, int | None, str]


class _Deltas:
    """Changes to the rollups made by one call, summed per key before they are written."""

    def __init__(self) -> None:
        self.entries: Counter[DeltaKey] = Counter()
        self.converted: Counter[DeltaKey] = Counter()
        self.zone = report_zone()

    def add(self, entry: StageEntry, bucket: int, n: int, converted: int = 0) -> None:
        if entry.stage not in WATERFALL_NEXT:
            return
        key = (
            timezone.localtime(entry.entered_at, self.zone).date(), entry.stage, entry.reentry,
            bucket, entry.source, entry.campaign, entry.team_id_at_entry,
            entry.definition_id_at_entry, entry.lane,
        )  # fmt: skip
        self.entries[key] += n
        self.converted[key] += converted

    def save(self) -> None:
        StageDelta.objects.bulk_create(
            [
                StageDelta(
                    day=k[0], stage=k[1], reentry=k[2], bucket=k[3], entries=n,
                    converted=self.converted[k], source=k[4], campaign=k[5], team_id=k[6],
                    definition_id=k[7], lane=k[8],
                )
                for k, n in self.entries.items()
                if n or self.converted[k]
            ]
        )  # fmt: skip


def stage_entries_open(leads: Iterable[Lead]) -> None:
    """The `lead` entry of newly created leads."""
    entries = [
        StageEntry(
            lead_id=lead.pk,
            stage=LeadState.LEAD,
            entered_at=lead.created_at,
            source=lead.source,
            campaign=lead.campaign,
        )
        for lead in leads
    ]
    StageEntry.objects.bulk_create(entries)
    deltas = _Deltas()
    for entry in entries:
        deltas.add(entry, OPEN, 1)
    deltas.save()


def stage_entry_open_sql(
    *, entered_at: Any, source: str, campaign: str, alias: str
) -> tuple[str, list[Any]]:
    """`stage_entries_open` for one lead being inserted by the same statement: CTEs that read
    its id from `alias` (PostgreSQL's one-statement intake)."""
    day = timezone.localtime(entered_at, report_zone()).date()
    sql = f"""
        , open_entry AS (
            INSERT INTO leads_stageentry (lead_id, stage, reentry, entered_at, left_at,
                next_state, team_id_at_entry, definition_id_at_entry, source, campaign)
            SELECT id, %s, FALSE, %s, NULL, '', NULL, NULL, %s, %s FROM {alias})
        , open_delta AS (
            INSERT INTO leads_stagedelta (day, stage, reentry, bucket, entries, converted,
                source, campaign, team_id, definition_id)
            SELECT %s, %s, FALSE, {OPEN}, 1, 0, %s, %s, NULL, NULL FROM {alias})
    """  # noqa: S608 - the alias and OPEN are ours
    stage = LeadState.LEAD.value
    return sql, [stage, entered_at, source, campaign, day, stage, source, campaign]


def stage_entries_move(rows: list[LeadTransition], leads: dict[int, Lead]) -> None:
    """Close each lead's open entry and open the entry of the state it moved to. The leads are
    locked by the caller, so their open entries cannot change under us."""
    by_lead = {row.lead_id: row for row in rows}
    deltas = _Deltas()
    groups: dict[tuple[Any, str], list[int]] = defaultdict(list)
    laned: list[StageEntry] = []  # the entries of leads that got their lane just now
    for entry in StageEntry.objects.filter(lead_id__in=list(by_lead), left_at__isnull=True):
        row = by_lead[entry.lead_id]
        groups[(row.occurred_at, row.to_state)].append(entry.lead_id)
        stay = (row.occurred_at - entry.entered_at).total_seconds()
        deltas.add(entry, OPEN, -1)
        if entry.lane != leads[entry.lead_id].lane:
            entry.lane = leads[entry.lead_id].lane
            laned.append(entry)
        deltas.add(entry, bucket_of(stay), 1, int(is_converted(entry.stage, row.to_state)))
    if laned:
        _lane_earlier_entries(laned, leads, deltas)
    for (at, to_state), lead_ids in groups.items():  # one UPDATE per (time, target)
        StageEntry.objects.filter(lead_id__in=lead_ids, left_at__isnull=True).update(
            left_at=at, next_state=to_state
        )
    entries = [
        StageEntry(
            lead_id=row.lead_id,
            stage=row.to_state,
            reentry=is_reentry(row.from_state, row.to_state),
            entered_at=row.occurred_at,
            team_id_at_entry=row.team_after_id,
            definition_id_at_entry=row.definition_id,
            source=leads[row.lead_id].source,
            campaign=leads[row.lead_id].campaign,
            lane=leads[row.lead_id].lane,
        )
        for row in rows
    ]
    StageEntry.objects.bulk_create(entries)
    for entry in entries:
        deltas.add(entry, OPEN, 1)
    deltas.save()


def _lane_earlier_entries(
    closing: list[StageEntry], leads: dict[int, Lead], deltas: _Deltas
) -> None:
    """A lead's lane is fixed by its first move into the line (SPEC §13); the entries it made
    before move from no lane to that lane, in the rollups too. That is the `lead` entry being
    closed (its deltas are already keyed on the lane) and, only for a lead whose closing entry is
    not its `lead` entry (history from before lanes), any older one. By primary key: the stage
    entries have no index on the lead but the partial one of open entries."""
    by_lane: dict[str, list[int]] = defaultdict(list)
    for entry in closing:
        by_lane[entry.lane].append(entry.pk)
    older = [e.lead_id for e in closing if e.stage != LeadState.LEAD]
    if older:
        for entry in StageEntry.objects.filter(
            lead_id__in=older, lane="", left_at__isnull=False
        ).iterator():
            stay = (entry.left_at - entry.entered_at).total_seconds()  # type: ignore[operator]
            bucket, converted = bucket_of(stay), int(is_converted(entry.stage, entry.next_state))
            deltas.add(entry, bucket, -1, -converted)
            entry.lane = leads[entry.lead_id].lane
            deltas.add(entry, bucket, 1, converted)
            by_lane[entry.lane].append(entry.pk)
    for lane, pks in by_lane.items():
        StageEntry.objects.filter(pk__in=pks).update(lane=lane)


def stage_entries_rebuild() -> int:
    """Rebuild every entry from the leads and the history, set-based (data loads, backfills)."""
    StageEntry.objects.all().delete()
    sql = """
        INSERT INTO leads_stageentry (lead_id, stage, reentry, entered_at, left_at, next_state,
                                      team_id_at_entry, definition_id_at_entry, source, campaign,
                                      lane)
        WITH h AS (
            SELECT t.lead_id, t.to_state, t.from_state, t.occurred_at, t.definition_id, t.team_after_id,
                   LEAD(t.occurred_at) OVER w AS left_at, LEAD(t.to_state) OVER w AS next_state,
                   ROW_NUMBER() OVER w AS n
            FROM leads_leadtransition t
            WINDOW w AS (PARTITION BY t.lead_id ORDER BY t.occurred_at, t.id)
        )
        SELECT l.id, 'lead', FALSE, l.created_at, h.occurred_at, COALESCE(h.to_state, ''), NULL, NULL,
               l.source, l.campaign, l.lane
        FROM leads_lead l LEFT JOIN h ON h.lead_id = l.id AND h.n = 1
        UNION ALL
        SELECT h.lead_id, h.to_state,
               h.from_state = 'recycled' OR (h.from_state = 'tql' AND h.to_state = 'tal'),
               h.occurred_at, h.left_at,
               COALESCE(h.next_state, ''), h.team_after_id, h.definition_id, l.source, l.campaign,
               l.lane
        FROM h JOIN leads_lead l ON l.id = h.lead_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return int(cursor.rowcount)


def _converted_sql(alias: str) -> str:
    return " OR ".join(
        f"({alias}.stage = '{stage}' AND {alias}.next_state IN "
        f"({', '.join(repr(str(n)) for n in nxt)}))"
        for stage, nxt in WATERFALL_NEXT.items()
        if nxt
    )


def entry_bucket_sql(alias: str) -> str:
    """An entry's duration bucket in PostgreSQL (-1 while it is open)."""
    seconds = f"EXTRACT(EPOCH FROM ({alias}.left_at - {alias}.entered_at))"
    return f"CASE WHEN {alias}.left_at IS NULL THEN {OPEN} ELSE {bucket_sql(seconds)} END"


def entry_converted_sql(alias: str) -> str:
    return f"CASE WHEN {_converted_sql(alias)} THEN 1 ELSE 0 END"


_UPSERT = """
    INSERT INTO leads_stagerollup (dimension, key, day, stage, reentry, bucket, entries, converted)
    {select}
    ON CONFLICT (dimension, day, key, stage, reentry, bucket) DO UPDATE
    SET entries = leads_stagerollup.entries + EXCLUDED.entries,
        converted = leads_stagerollup.converted + EXCLUDED.converted
"""


# A rollup dimension -> its key column in `_fan_out`'s rows; the "" dimension is the total.
DIMENSION_KEYS = {
    "source": "d.source",
    "campaign": "d.campaign",
    "team": "d.team_key",
    "definition": "d.definition_key",
    "lane": "d.lane",
}


def _fan_out(source: str) -> str:
    """The rows of `source` (day, stage, reentry, bucket, entries, converted, source, campaign,
    team_id, definition_id) summed per dimension and key: one pass, one grouping set per
    dimension and one for the total."""
    keys = list(DIMENSION_KEYS.values())
    common = "d.day, d.stage, d.reentry, d.bucket"
    sets = ", ".join(f"({common}{', ' + k if k else ''})" for k in ["", *keys])
    # GROUPING() has a bit per key column (the first the highest), set when the column is not
    # in the row's grouping set: a dimension's set leaves out every key but its own.
    every = (1 << len(keys)) - 1
    grouping = f"GROUPING({', '.join(keys)})"
    dimension = " ".join(
        f"WHEN {every - (1 << (len(keys) - 1 - i))} THEN '{name}'"
        for i, name in enumerate(DIMENSION_KEYS)
    )
    key = " ".join(
        f"WHEN {every - (1 << (len(keys) - 1 - i))} THEN {column}" for i, column in enumerate(keys)
    )
    return f"""
        SELECT CASE {grouping} {dimension} ELSE '' END,
               CASE {grouping} {key} ELSE '' END,
               {common}, SUM(d.entries), SUM(d.converted)
        FROM (SELECT s.*, COALESCE(CAST(s.team_id AS TEXT), '') AS team_key,
                     COALESCE(CAST(s.definition_id AS TEXT), '') AS definition_key
              FROM {source} s) d
        GROUP BY GROUPING SETS ({sets})
    """  # noqa: S608 - only fixed fragments are interpolated


def stage_rollups_compact() -> int:
    """Fold the pending deltas into the rollups; returns the rollup rows written. Concurrent
    runs are safe: a delta is deleted, and so counted, by exactly one of them."""
    if connection.vendor != "postgresql":
        return _compact_in_python()
    moved = "WITH moved AS (DELETE FROM leads_stagedelta RETURNING *) "
    sql = moved + _UPSERT.format(select=_fan_out("moved"))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
        return int(cursor.rowcount)


def _compact_in_python() -> int:
    """SQLite (the embedded demo): the same fold, in one write transaction."""
    with transaction.atomic():
        deltas = list(StageDelta.objects.all())
        totals: Counter[tuple[str, str, Any, str, bool, int]] = Counter()
        converted: Counter[tuple[str, str, Any, str, bool, int]] = Counter()
        for d in deltas:
            keys = {
                "": "",
                "source": d.source,
                "campaign": d.campaign,
                "team": "" if d.team_id is None else str(d.team_id),
                "definition": "" if d.definition_id is None else str(d.definition_id),
                "lane": d.lane,
            }
            for dim, key in keys.items():
                k = (dim, key, d.day, d.stage, d.reentry, d.bucket)
                totals[k] += d.entries
                converted[k] += d.converted
        rows = [(*k, n, converted[k]) for k, n in totals.items()]
        _upsert_rows(rows)
        StageDelta.objects.filter(pk__in=[d.pk for d in deltas]).delete()
    return len(rows)


def _upsert_rows(rows: list[tuple[Any, ...]]) -> None:
    for start in range(0, len(rows), 100):
        chunk = rows[start : start + 100]
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(
                _UPSERT.format(select="VALUES " + values), [v for row in chunk for v in row]
            )


def stage_rollups_rebuild() -> int:
    """Recreate every rollup from the stage entries, set-based (data loads, backfills, and after
    a change of `TIME_ZONE`, which moves the calendar days). Returns the rows written."""
    with transaction.atomic():
        StageDelta.objects.all().delete()
        StageRollup.objects.all().delete()
        if connection.vendor != "postgresql":
            return _rebuild_in_python()
        stages = ", ".join(f"'{s}'" for s in WATERFALL_NEXT)
        entries = f"""(
            SELECT (x.entered_at AT TIME ZONE %s)::date AS day, x.stage, x.reentry,
                   {entry_bucket_sql("x")} AS bucket, 1 AS entries,
                   {entry_converted_sql("x")} AS converted, x.source, x.campaign,
                   x.team_id_at_entry AS team_id, x.definition_id_at_entry AS definition_id,
                   x.lane
            FROM leads_stageentry x WHERE x.stage IN ({stages}))"""  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(_UPSERT.format(select=_fan_out(entries)), [str(report_zone())])
            return int(cursor.rowcount)


def _rebuild_in_python() -> int:
    deltas = _Deltas()
    for entry in StageEntry.objects.filter(stage__in=list(WATERFALL_NEXT)).iterator():
        if entry.left_at is None:
            deltas.add(entry, OPEN, 1)
        else:
            stay = (entry.left_at - entry.entered_at).total_seconds()
            deltas.add(entry, bucket_of(stay), 1, int(is_converted(entry.stage, entry.next_state)))
    deltas.save()
    return _compact_in_python()
