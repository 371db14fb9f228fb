"""The funnel (SPEC §8): per stage, entries in the period, conversions to the next stage, and the
days spent in the stage, from the stage entries kept in step with the history. Re-entries
(recycled → mql) are counted apart from first entries, so a lead that qualifies twice is never
two new MQLs."""

from __future__ import annotations

from collections import defaultdict
from statistics import quantiles
from typing import Any

from django.db import connection

from analytics.periods import Period
from leads.choices import LeadState

S = LeadState
STAGES = [S.LEAD, S.MQL, S.SAL, S.SQL, S.WON]
# A stage entry converts when the lead's next transition goes here (an SGL's claim skips mql).
NEXT = {S.LEAD: (S.MQL, S.SAL), S.MQL: (S.SAL,), S.SAL: (S.SQL,), S.SQL: (S.WON,), S.WON: ()}
GROUPS = {
    "source": "x.source",
    "campaign": "x.campaign",
    "team": "COALESCE(CAST(x.team_id_at_entry AS TEXT), '')",
    "definition": "COALESCE(CAST(x.definition_id_at_entry AS TEXT), '')",
}


def entries_sql(scope_sql: str) -> str:
    """The stage entries of the period (`leads_stageentry`, kept in step with the history);
    the lead is joined only to scope a role's figures."""
    join = "JOIN leads_lead l ON l.id = x.lead_id" if scope_sql else ""
    return f"""
        SELECT x.stage, CASE WHEN x.reentry THEN 1 ELSE 0 END AS reentry, x.entered_at, x.left_at,
               x.next_state, {{group}} AS grp
        FROM leads_stageentry x {join}
        WHERE x.entered_at >= %s AND x.entered_at < %s {scope_sql}
    """  # noqa: S608 - only fixed fragments and the whitelisted group are interpolated


CONVERTED = " OR ".join(
    f"(stage = '{stage}' AND next_state IN ({', '.join(repr(str(n)) for n in nxt)}))"
    for stage, nxt in NEXT.items()
    if nxt
)


def funnel_report(
    *, period: Period, group_by: str | None, scope: tuple[str, list[Any]]
) -> dict[str, Any]:
    """`scope` is an extra SQL condition on `l` (the lead) with its params, for role scoping."""
    scope_sql, scope_params = scope
    sql = entries_sql(scope_sql).replace("{group}", GROUPS[group_by] if group_by else "''")
    params = [period.start, period.end, *scope_params, *STAGES]
    stages = f"stage IN ({', '.join(['%s'] * len(STAGES))})"
    if connection.vendor == "postgresql":
        buckets = _aggregate_in_postgres(sql, stages, params)
    else:
        buckets = _aggregate_in_python(sql, stages, params)
    return _shape(buckets, group_by)


def _aggregate_in_postgres(
    sql: str, stages: str, params: list[Any]
) -> dict[tuple[str, str, int], dict[str, Any]]:
    days = "EXTRACT(EPOCH FROM (left_at - entered_at)) / 86400.0"
    query = (
        f"SELECT grp, stage, reentry, count(*), count(*) FILTER (WHERE {CONVERTED}), "  # noqa: S608
        f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {days}) FILTER (WHERE left_at IS NOT NULL), "
        f"percentile_cont(0.8) WITHIN GROUP (ORDER BY {days}) FILTER (WHERE left_at IS NOT NULL) "
        f"FROM ({sql}) e WHERE {stages} GROUP BY grp, stage, reentry"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return {
            (grp or "", stage, int(reentry)): {
                "entered": entered,
                "converted": converted,
                "median": None if med is None else round(float(med), 2),
                "p80": None if p80 is None else round(float(p80), 2),
            }
            for grp, stage, reentry, entered, converted, med, p80 in cursor.fetchall()
        }


def _aggregate_in_python(
    sql: str, stages: str, params: list[Any]
) -> dict[tuple[str, str, int], dict[str, Any]]:
    """SQLite (the embedded demo database) has no percentile_cont: the same figures in Python."""
    raw: dict[tuple[str, str, int], dict[str, Any]] = defaultdict(
        lambda: {"entered": 0, "converted": 0, "days": []}
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT stage, reentry, grp, next_state, left_at, entered_at "  # noqa: S608
            f"FROM ({sql}) e WHERE {stages}",
            params,
        )
        for stage, reentry, grp, next_state, left_at, entered_at in cursor:
            b = raw[(grp or "", stage, int(reentry))]
            b["entered"] += 1
            b["converted"] += next_state in NEXT[stage]
            if left_at is not None:
                b["days"].append(_days(entered_at, left_at))
    return {
        k: {
            "entered": b["entered"],
            "converted": b["converted"],
            "median": _pct(b["days"], 0.5),
            "p80": _pct(b["days"], 0.8),
        }
        for k, b in raw.items()
    }


def _as_datetime(value: Any) -> Any:
    from django.utils.dateparse import parse_datetime

    return parse_datetime(value) if isinstance(value, str) else value


def _days(start: Any, end: Any) -> float:
    """Days between two times (SQLite returns them as text from a raw query)."""
    return (_as_datetime(end) - _as_datetime(start)).total_seconds() / 86400


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 2)
    cut = quantiles(sorted(values), n=100, method="inclusive")
    return round(cut[int(q * 100) - 1], 2)


def _shape(
    buckets: dict[tuple[str, str, int], dict[str, Any]], group_by: str | None
) -> dict[str, Any]:
    """Per group, per stage: first entries and re-entries side by side."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for grp in sorted({g for g, _, _ in buckets} or {""}):
        for stage in STAGES:
            first, again = buckets.get((grp, stage, 0)), buckets.get((grp, stage, 1))
            row: dict[str, Any] = {"stage": stage}
            for name, b in (("first", first), ("reentry", again)):
                b = b or {"entered": 0, "converted": 0, "median": None, "p80": None}
                row[name] = {
                    "entered": b["entered"],
                    "converted": b["converted"],
                    # The last stage has nowhere to convert to.
                    "conversion_rate": round(b["converted"] / b["entered"], 4)
                    if b["entered"] and NEXT[stage]
                    else None,
                    "median_days": b["median"],
                    "p80_days": b["p80"],
                }
            groups[grp].append(row)
    if group_by is None:
        return {"stages": groups[""]}
    return {"group_by": group_by, "groups": [{"key": k, "stages": v} for k, v in groups.items()]}
