"""The funnel (SPEC §8): per stage, entries in the period, conversions to the next stage, and the
days spent in the stage. Re-entries (recycled → mql, a TQL sent back → tal) are counted apart
from first entries, so a lead that qualifies twice is never two new MQLs.

Whole calendar days of the period come from the daily rollups (`leads.StageRollup` plus the
deltas not folded in yet); the partial days at either end, and every figure of a role that sees
only some leads, come from the stage entries themselves. Both yield the same duration buckets
(`leads.durations`), from which the median and p80 are read."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.db import connection

from analytics.periods import Period
from leads.durations import (
    OPEN,
    WATERFALL,
    WATERFALL_NEXT,
    bucket_of,
    is_converted,
    percentile,
    report_zone,
)
from leads.services.stage_entries import entry_bucket_sql, entry_converted_sql

STAGES = WATERFALL
# group_by -> the key in the entries (alias x) and in the deltas (alias d)
GROUPS = {
    "source": ("x.source", "d.source"),
    "campaign": ("x.campaign", "d.campaign"),
    "team": (
        "COALESCE(CAST(x.team_id_at_entry AS TEXT), '')",
        "COALESCE(CAST(d.team_id AS TEXT), '')",
    ),
    "definition": (
        "COALESCE(CAST(x.definition_id_at_entry AS TEXT), '')",
        "COALESCE(CAST(d.definition_id AS TEXT), '')",
    ),
    "lane": ("x.lane", "d.lane"),
}
_STAGES_SQL = ", ".join(f"'{s}'" for s in STAGES)

Row = tuple[str, str, bool, int, int, int]  # group, stage, reentry, bucket, entries, converted


@dataclass
class Bucket:
    entered: int = 0
    converted: int = 0
    stays: Counter[int] = field(default_factory=Counter)  # duration bucket -> entries


def funnel_report(
    *, period: Period, group_by: str | None, scope: tuple[str, list[Any]], total: bool = False
) -> dict[str, Any]:
    """`scope` is an extra SQL condition on `l` (the lead) with its params, for role scoping.
    With `total`, a grouped report also holds the stages of every group together (`stages`),
    added up from the same rows."""
    if scope[0]:
        rows = _from_entries([(period.start, period.end)], group_by, scope)
    else:
        days, edges = split_days(period)
        rows = _from_rollups(days, group_by) if days else []
        rows += _from_entries(edges, group_by, scope) if edges else []
    buckets: dict[tuple[str, str, bool], Bucket] = defaultdict(Bucket)
    everything: dict[tuple[str, str, bool], Bucket] = defaultdict(Bucket)
    for grp, stage, reentry, bucket, entries, converted in rows:
        for b in (buckets[(grp or "", stage, bool(reentry))], everything[("", stage, reentry)]):
            b.entered += entries
            b.converted += converted
            if bucket != OPEN:
                b.stays[bucket] += entries
    report = _shape(buckets, group_by)
    if total and group_by is not None:
        report["stages"] = _shape(everything, None)["stages"]
    return report


def split_days(period: Period) -> tuple[tuple[date, date] | None, list[tuple[datetime, datetime]]]:
    """The whole calendar days of the period (first, last exclusive) and the partial days at its
    ends, as time ranges."""
    zone = report_zone()
    start, end = period.start.astimezone(zone), period.end.astimezone(zone)
    first = start.date() if start.time() == time.min else date.fromordinal(start.toordinal() + 1)
    last = end.date()
    if first >= last:
        return None, [(period.start, period.end)]

    def midnight(d: date) -> datetime:
        return datetime.combine(d, time.min, tzinfo=zone)

    edges = [(period.start, midnight(first)), (midnight(last), period.end)]
    return (first, last), [(a, b) for a, b in edges if a < b]


def _from_rollups(days: tuple[date, date], group_by: str | None) -> list[Row]:
    dimension = group_by or ""
    delta_key = GROUPS[group_by][1] if group_by else "''"
    sql = f"""
        SELECT key, stage, reentry, bucket, SUM(entries), SUM(converted) FROM (
            SELECT key, stage, reentry, bucket, entries, converted FROM leads_stagerollup
            WHERE dimension = %s AND day >= %s AND day < %s
            UNION ALL
            SELECT {delta_key}, d.stage, d.reentry, d.bucket, d.entries, d.converted
            FROM leads_stagedelta d WHERE d.day >= %s AND d.day < %s
        ) r GROUP BY key, stage, reentry, bucket
    """  # noqa: S608 - only the whitelisted group expression is interpolated
    with connection.cursor() as cursor:
        cursor.execute(sql, [dimension, *days, *days])
        return [(k, s, bool(r), int(b), int(n), int(c)) for k, s, r, b, n, c in cursor.fetchall()]


def _from_entries(
    ranges: list[tuple[datetime, datetime]], group_by: str | None, scope: tuple[str, list[Any]]
) -> list[Row]:
    """The same rows straight from the stage entries entered in `ranges`."""
    scope_sql, scope_params = scope
    join = "JOIN leads_lead l ON l.id = x.lead_id" if scope_sql else ""
    within = " OR ".join(["(x.entered_at >= %s AND x.entered_at < %s)"] * len(ranges))
    adapt = connection.ops.adapt_datetimefield_value  # SQLite compares UTC text
    params = [adapt(t) for r in ranges for t in r] + list(scope_params)
    grp = GROUPS[group_by][0] if group_by else "''"
    where = (
        f"FROM leads_stageentry x {join} "
        f"WHERE ({within}) AND x.stage IN ({_STAGES_SQL}) {scope_sql}"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT {grp}, x.stage, x.reentry, {entry_bucket_sql('x')}, count(*), "
                f"SUM({entry_converted_sql('x')}) {where} GROUP BY 1, 2, 3, 4",
                params,
            )
            return [
                (k, s, bool(r), int(b), int(n), int(c)) for k, s, r, b, n, c in cursor.fetchall()
            ]
        # SQLite (the embedded demo) has no ln(): the buckets in Python.
        cursor.execute(
            f"SELECT {grp}, x.stage, x.reentry, x.entered_at, x.left_at, x.next_state {where}",
            params,
        )
        counts: Counter[tuple[str, str, bool, int]] = Counter()
        converted: Counter[tuple[str, str, bool, int]] = Counter()
        for k, stage, reentry, entered_at, left_at, next_state in cursor.fetchall():
            bucket = OPEN if left_at is None else bucket_of(_seconds(entered_at, left_at))
            counts[(k, stage, bool(reentry), bucket)] += 1
            converted[(k, stage, bool(reentry), bucket)] += is_converted(stage, next_state)
        return [(*key, n, converted[key]) for key, n in counts.items()]


def _seconds(start: Any, end: Any) -> float:
    """Seconds between two times (SQLite returns them as text from a raw query)."""
    from django.utils.dateparse import parse_datetime

    def as_dt(v: Any) -> Any:
        return parse_datetime(v) if isinstance(v, str) else v

    return float((as_dt(end) - as_dt(start)).total_seconds())


def _days(stays: Counter[int], q: float) -> float | None:
    seconds = percentile(stays, q)
    return None if seconds is None else round(seconds / 86400, 2)


def empty_stages() -> list[dict[str, Any]]:
    return list(_shape({}, None)["stages"])


def _shape(buckets: dict[tuple[str, str, bool], Bucket], group_by: str | None) -> dict[str, Any]:
    """Per group, per stage: first entries and re-entries side by side."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for grp in sorted({g for g, _, _ in buckets} or {""}):
        for stage in STAGES:
            row: dict[str, Any] = {"stage": stage}
            for name, reentry in (("first", False), ("reentry", True)):
                b = buckets.get((grp, stage, reentry)) or Bucket()
                row[name] = {
                    "entered": b.entered,
                    "converted": b.converted,
                    # The last stage has nowhere to convert to.
                    "conversion_rate": round(b.converted / b.entered, 4)
                    if b.entered and WATERFALL_NEXT[stage]
                    else None,
                    "median_days": _days(b.stays, 0.5),
                    "p80_days": _days(b.stays, 0.8),
                }
            groups[grp].append(row)
    if group_by is None:
        return {"stages": groups[""]}
    return {"group_by": group_by, "groups": [{"key": k, "stages": v} for k, v in groups.items()]}
