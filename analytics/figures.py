"""The dashboard's figures as daily rollups (PostgreSQL), so that the COO's page reads a few
thousand rows instead of the whole history at any size.

One SQL statement, `_CONTRIBUTIONS`, says what each lead adds to every figure: its handoffs
(by the day they opened, team and rep), its qualifications and sales' answers under each
definition version (the criteria card, not kept per day), its recyclings and re-entries (by
day, transition and reason) and its win (by day, version, source and campaign). The rebuild
runs it over every lead; a write runs it over the leads it changes, before and after
(`leads.services.derived.leads_changing`), and appends the difference as `FigureDelta` rows.
So the rebuild and the incremental path are the same definition and cannot drift apart; the
reports in `analytics.reports` compute the same figures from the raw tables, and the
reconciliation suite checks that both agree.

SQLite (the embedded demo) keeps no rollups: its reports read the raw tables."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from analytics.models import UNDATED, FigureDelta
from analytics.periods import Period
from leads.durations import bucket_sql, report_zone

# Handoff response times are kept in 5% buckets: per rep and day, 2% would be ~2.5 times the
# rows for a median nobody reads to better than an hour.
RESPONSE_RATIO = 1.05
Key = tuple[date, str, int, int, int, str, str]  # day, figure, definition, team, rep, key, key2
Measures = tuple[int, int, int, Decimal]  # n, leads, won, amount

_BUCKET = bucket_sql("EXTRACT(EPOCH FROM (h.answered_at - h.opened_at))", RESPONSE_RATIO)
_CONTRIBUTIONS = f"""
WITH t AS (
    SELECT t.id, t.lead_id, t.transition, t.from_state, t.to_state, t.reason, t.definition_id,
           t.evaluation, t.amount, t.occurred_at,
           lead(t.from_state) OVER w AS next_from, lead(t.to_state) OVER w AS next_to
    FROM leads_leadtransition t WHERE {{lead}}
    WINDOW w AS (PARTITION BY t.lead_id ORDER BY t.occurred_at, t.id)
), l AS (
    SELECT id, CASE WHEN state = 'won' THEN 1 ELSE 0 END AS won FROM leads_lead WHERE {{id}}
), c AS (
    SELECT (h.opened_at AT TIME ZONE %(tz)s)::date AS day, f.figure, 0::bigint AS definition_id,
           COALESCE(h.team_id, 0) AS team_id, COALESCE(h.assignee_id, 0) AS rep_id,
           f.key, ''::text AS key2, 1 AS n, 0 AS leads, 0 AS won, 0::numeric AS amount
    FROM handoff_handoff h CROSS JOIN LATERAL (VALUES
        ('h.total', '', TRUE),
        ('h.open', '', h.status = 'open'),
        ('h.within', '', h.answered_at IS NOT NULL AND h.breached_at IS NULL),
        ('h.breached', '', h.breached_at IS NOT NULL),
        ('h.accepted', '', h.status = 'accepted'),
        ('h.rejected', h.reason::text, h.status = 'rejected'),
        ('h.response', CAST({_BUCKET} AS text), h.answered_at IS NOT NULL)
    ) f(figure, key, applies)
    WHERE {{lead_h}} AND f.applies AND h.stage <> 'tal'
  UNION ALL
    SELECT DATE '{UNDATED}', 'c.pass', q.definition_id, 0, 0, q.code, q.passed, 1, 1, l.won, 0
    FROM (SELECT DISTINCT t.lead_id, t.definition_id, e->>'code' AS code,
                 e->>'passed' AS passed
          FROM t CROSS JOIN LATERAL jsonb_array_elements(t.evaluation) e
          WHERE t.transition = 'qualify_mql' AND t.definition_id IS NOT NULL
                AND jsonb_typeof(t.evaluation) = 'array') q
    JOIN l ON l.id = q.lead_id
  UNION ALL
    -- each lead once per version it qualified under, and once per version sales accepted it
    SELECT DATE '{UNDATED}',
           CASE q.transition WHEN 'accept' THEN 'c.accepted' ELSE 'c.qualified' END,
           q.definition_id, 0, 0, '', '', 1, 1, l.won, 0
    FROM (SELECT DISTINCT lead_id, definition_id, transition FROM t
          WHERE transition IN ('qualify_mql', 'accept') AND definition_id IS NOT NULL) q
    JOIN l ON l.id = q.lead_id
  UNION ALL
    SELECT DATE '{UNDATED}', 'c.answer', q.definition_id, 0, 0, q.transition, q.reason, q.n, 1,
           l.won, 0
    FROM (SELECT lead_id, definition_id, transition, reason, count(*) AS n FROM t
          WHERE transition IN ('accept', 'reject') AND definition_id IS NOT NULL
          GROUP BY 1, 2, 3, 4) q
    JOIN l ON l.id = q.lead_id

  UNION ALL
    SELECT (t.occurred_at AT TIME ZONE %(tz)s)::date, f.figure, 0, 0, 0, f.key, f.key2, 1, 0, 0, 0
    FROM t JOIN l ON l.id = t.lead_id CROSS JOIN LATERAL (VALUES
        ('r.recycled', t.transition::text, t.reason::text, t.to_state = 'recycled'),
        ('r.came_back', '', '', t.to_state = 'recycled' AND t.next_from = 'recycled'
                                AND t.next_to = 'mql'),
        ('r.won', '', '', t.to_state = 'recycled' AND l.won = 1),
        ('r.reentry', '', '', t.from_state = 'recycled' AND t.to_state = 'mql')
    ) f(figure, key, key2, applies)
    WHERE f.applies
  UNION ALL
    SELECT (t.occurred_at AT TIME ZONE %(tz)s)::date, 'w.won', COALESCE(t.definition_id, 0),
           0, 0, x.source, x.campaign, 1, 0, 0, COALESCE(t.amount, 0)
    FROM t JOIN leads_stageentry x ON x.lead_id = t.lead_id AND x.stage = 'won'
                                   AND x.entered_at = t.occurred_at
    WHERE t.transition = 'win'
)
SELECT day, figure, definition_id, team_id, rep_id, key, key2,
       SUM(n), SUM(leads), SUM(won), SUM(amount)
FROM c GROUP BY 1, 2, 3, 4, 5, 6, 7
"""  # noqa: S608 - only fixed fragments are interpolated


def enabled() -> bool:
    return connection.vendor == "postgresql"


def _contributions_sql(every_lead: bool) -> str:
    if every_lead:
        return _CONTRIBUTIONS.format(lead="TRUE", id="TRUE", lead_h="TRUE")
    return _CONTRIBUTIONS.format(
        lead="t.lead_id = ANY(%(ids)s)", id="id = ANY(%(ids)s)", lead_h="h.lead_id = ANY(%(ids)s)"
    )


def contributions(lead_ids: list[int]) -> dict[Key, Measures]:
    """What these leads add to every figure now."""
    with connection.cursor() as cursor:
        cursor.execute(_contributions_sql(False), {"tz": str(report_zone()), "ids": lead_ids})
        return {
            (day, fig, d, t, r, k, k2): (int(n), int(le), int(w), a or Decimal(0))
            for day, fig, d, t, r, k, k2, n, le, w, a in cursor.fetchall()
        }


@contextmanager
def figures_tracker(lead_ids: list[int]) -> Iterator[None]:
    """Registered with `leads.services.derived`: the difference a write made, as deltas."""
    if not enabled() or not lead_ids:
        yield
        return
    before = contributions(lead_ids)
    yield
    after = contributions(lead_ids)
    zero: Measures = (0, 0, 0, Decimal(0))
    deltas = []
    for key in before.keys() | after.keys():
        b, a = before.get(key, zero), after.get(key, zero)
        diff = (a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3])
        if any(diff):
            day, figure, definition_id, team_id, rep_id, k, k2 = key
            deltas.append(FigureDelta(
                day=day, figure=figure, definition_id=definition_id, team_id=team_id,
                rep_id=rep_id, key=k, key2=k2, n=diff[0], leads=diff[1], won=diff[2],
                amount=diff[3],
            ))  # fmt: skip
    FigureDelta.objects.bulk_create(deltas)


_COLUMNS = "day, figure, definition_id, team_id, rep_id, key, key2, n, leads, won, amount"
_UPSERT = f"""
    INSERT INTO analytics_figurerollup ({_COLUMNS}) {{select}}
    ON CONFLICT (figure, day, definition_id, team_id, rep_id, key, key2) DO UPDATE
    SET n = analytics_figurerollup.n + EXCLUDED.n,
        leads = analytics_figurerollup.leads + EXCLUDED.leads,
        won = analytics_figurerollup.won + EXCLUDED.won,
        amount = analytics_figurerollup.amount + EXCLUDED.amount
"""  # noqa: S608 - fixed fragments only


def figures_compact() -> int:
    """Fold the pending deltas into the rollups; returns the rollup rows written. Concurrent
    runs are safe: a delta is deleted, and so counted, by exactly one of them."""
    if not enabled():
        return 0
    select = """SELECT day, figure, definition_id, team_id, rep_id, key, key2,
               SUM(n), SUM(leads), SUM(won), SUM(amount)
        FROM moved GROUP BY 1, 2, 3, 4, 5, 6, 7"""
    moved = "WITH moved AS (DELETE FROM analytics_figuredelta RETURNING *) "
    sql = moved + _UPSERT.format(select=select)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
        return int(cursor.rowcount)


def figures_rebuild() -> int:
    """Recreate every rollup from the history, the handoffs and the leads, set-based (data
    loads, backfills, and after a change of `TIME_ZONE`). Returns the rows written."""
    if not enabled():
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE analytics_figurerollup, analytics_figuredelta")
        cursor.execute("DELETE FROM analytics_figuredelta")
        cursor.execute("DELETE FROM analytics_figurerollup")
        cursor.execute(
            f"INSERT INTO analytics_figurerollup ({_COLUMNS}) {_contributions_sql(True)}",
            {"tz": str(report_zone())},
        )
        return int(cursor.rowcount)


@dataclass(frozen=True)
class Row:
    figure: str
    definition_id: int
    team_id: int
    rep_id: int
    key: str
    key2: str
    n: int
    leads: int
    won: int
    amount: Decimal


def whole_days(period: Period) -> tuple[date, date] | None:
    """The period's first day and the day after its last, when it is made of whole calendar
    days of `TIME_ZONE` (what the dashboard asks for); None otherwise."""
    zone = report_zone()
    start, end = period.start.astimezone(zone), period.end.astimezone(zone)
    if start.time() != time.min or end.time() != time.min:
        return None
    return start.date(), end.date()


def figure_rows(
    figures: list[str], days: tuple[date, date] | None, *, definition_id: int | None = None
) -> list[Row]:
    """The rolled-up figures (rollups plus pending deltas) over `days`, or the undated ones,
    summed per key; of one definition version when asked."""
    where = "figure = ANY(%s) AND " + ("day >= %s AND day < %s" if days else "day = %s")
    params: list[Any] = [figures, *(days or [date.fromisoformat(UNDATED)])]
    if definition_id is not None:
        where += " AND definition_id = %s"
        params.append(definition_id)
    sql = f"""
        SELECT figure, definition_id, team_id, rep_id, key, key2,
               SUM(n), SUM(leads), SUM(won), SUM(amount)
        FROM (SELECT figure, definition_id, team_id, rep_id, key, key2, n, leads, won, amount
              FROM analytics_figurerollup WHERE {where}
              UNION ALL
              SELECT figure, definition_id, team_id, rep_id, key, key2, n, leads, won, amount
              FROM analytics_figuredelta WHERE {where}) r
        GROUP BY 1, 2, 3, 4, 5, 6
    """  # noqa: S608 - fixed fragments only
    with connection.cursor() as cursor:
        cursor.execute(sql, params + params)
        return [
            Row(f, d, t, r, k, k2, int(n), int(le), int(w), a or Decimal(0))
            for f, d, t, r, k, k2, n, le, w, a in cursor.fetchall()
        ]


def by_figure(rows: list[Row]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        out[row.figure].append(row)
    return out
