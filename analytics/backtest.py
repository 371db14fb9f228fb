"""Backtest (SPEC §3, §14): replay the recorded events of a period against a draft definition.

For each lead, the first moment in the period at which it would have met the draft's MQL
criteria. The candidate moments are the lead's creation and each of its events in the period.
One pass over the events, in lead and time order, gives every moment its engagement (decayed to
that moment with today's scoring rules, as running window sums: `engagement_window`) and its
activity counts (window counts over each criterion's days). Every criterion is a SQL condition on
that row and on the lead's row, so the first passing moment of every lead is one `GROUP BY`,
written to a temporary table that the outcomes are counted from by joins. A criterion on a free
attribute (`attributes.…`) is the one thing SQL cannot say alike on every database; when a draft
has one, the moments that pass the rest are streamed and it is checked in Python, a batch of
leads at a time.

Lead fields are not versioned: field criteria use today's values (a documented approximation).
`tests/analytics/backtest_reference.py` is the per-moment replay this replaced; the reconciliation
suite holds the two equal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from analytics.periods import Period
from leadflow.jobs import job_start
from leadflow.models import Job
from leads.choices import CriterionKind as K
from leads.choices import LeadState, Source
from leads.definitions import CRITERIA_FIELDS, _norm, _present, evaluate_criterion
from leads.models import Definition, Lead, LeadScore, LeadTransition
from scoring.choices import RuleKind
from scoring.engine import (
    LEAD_HISTORY,
    Dialect,
    active_rules,
    decay_span_days,
    engagement_window,
)

if TYPE_CHECKING:
    from leadflow.types import Actor

LIST_LIMIT = 500
BATCH = 500
# A `field_in` is matched exactly in SQL against the stored values that the evaluation's
# comparison accepts; a field with more distinct values than this is left to Python.
DISTINCT_LIMIT = 5000
WOULD = "backtest_would"  # temporary: each lead's first passing moment under the draft
DRAFT = "backtest_draft"  # temporary: what became of each of those leads
NOT_THROUGH_MQL = (Source.SALES_GENERATED, Source.INSIDE_SALES_GENERATED)  # claimed by a rep


def _column(name: str) -> str:
    if name not in CRITERIA_FIELDS:  # validated on write; never interpolate anything else
        raise ValueError(name)
    return f"l.{connection.ops.quote_name(name)}"


def _present_sql(name: str) -> str:
    col = _column(name)
    return (
        f"({col} IS NOT NULL AND {col} <> '')"
        if CRITERIA_FIELDS[name] == "text"
        else (f"{col} IS NOT NULL")
    )


def _in(values: list[Any]) -> str:
    return "(" + ", ".join(["%s"] * len(values)) + ")"


def _matching(name: str, values: list[str]) -> list[Any] | None:
    """The stored values of `name` that the evaluation counts as one of `values` (NFKC, trimmed,
    case-folded), read from the field's distinct values: SQL then matches exactly those."""
    stored = list(
        Lead.objects.order_by().values_list(name, flat=True).distinct()[: DISTINCT_LIMIT + 1]
    )
    if len(stored) > DISTINCT_LIMIT:
        return None
    wanted = {_norm(v) for v in values}
    return [v for v in stored if _present(v) and _norm(v) in wanted]


def _number(value: Any) -> Decimal | float:
    """A criterion's number as a parameter: exact on PostgreSQL; a float on SQLite, which would
    compare a Decimal's text as greater than any number."""
    return Decimal(str(value)) if connection.vendor == "postgresql" else float(value)


def _domain_sql(d: Dialect) -> str:
    """What follows the last `@` of the lead's e-mail (all of it without one), as the evaluation
    reads the domain."""
    email = "COALESCE(l.email, '')"
    if connection.vendor == "postgresql":
        return f"split_part({email}, '@', -1)"
    return f"substr({email}, length(rtrim({email}, replace({email}, '@', ''))) + 1)"


def _days_until_sql(name: str) -> str:
    """Days from the moment `x.t` (its UTC date, as the evaluation takes `now.date()`) to the
    date in field `name`."""
    col = _column(name)
    if connection.vendor == "postgresql":
        return f"({col} - CAST(x.t AT TIME ZONE 'UTC' AS date))"
    return f"CAST(julianday({col}) - julianday(date(x.t)) AS INTEGER)"


def criterion_sql(
    crit: dict[str, Any], d: Dialect, activity: dict[str, str]
) -> tuple[str, list[Any], bool] | None:
    """`crit` as a SQL condition on a candidate moment `x` (t, eng, activity columns), its lead
    `l` and its scores `s`: (condition, parameters, whether it depends on the moment only through
    the lead, i.e. is the same at every moment). None when only Python can say it exactly."""
    kind, p = crit["kind"], crit["params"]
    fields = [p["field"]] if "field" in p else list(p.get("fields", []))
    if any(f.startswith("attributes.") for f in fields):
        return None
    if kind == K.SCORE_AT_LEAST:
        fit = "COALESCE(s.fit, 0)"
        expr = {"fit": fit, "engagement": "x.eng", "total": f"({fit} + x.eng)"}[p["score"]]
        return f"{expr} >= %s", [_number(p["value"])], p["score"] == "fit"
    if kind == K.ACTIVITY_WITHIN:
        return f"x.{activity[crit['code']]} >= %s", [p.get("count", 1)], False
    if kind == K.PROBABILITY_AT_LEAST:
        # Today's predictive score, as the lead's fields are today's (neither is versioned).
        return "s.win_probability >= %s", [float(p["value"])], True
    if kind in (K.FIELD_IN, K.FIELD_NOT_IN):
        matches = _matching(p["field"], p["values"])
        if matches is None:
            return None
        col = _column(p["field"])
        if kind == K.FIELD_IN:
            return (f"{col} IN {_in(matches)}", matches, True) if matches else ("1 = 0", [], True)
        present = _present_sql(p["field"])
        return (f"{present} AND {col} NOT IN {_in(matches)}" if matches else present), matches, True
    if kind == K.FIELDS_PRESENT:
        return " AND ".join(_present_sql(f) for f in p["fields"]), [], True
    if kind == K.FIELD_TRUE:
        return f"{_column(p['field'])} = %s", [True], True
    if kind == K.FIELD_AT_LEAST:
        if CRITERIA_FIELDS[p["field"]] != "number":
            return None
        return f"{_column(p['field'])} >= %s", [_number(p["value"])], True
    if kind == K.DATE_WITHIN:
        if isinstance(Lead._meta.get_field(p["field"]), models.DateTimeField):
            return None  # its date would be taken in its own zone: left to the evaluation
        delta, days = _days_until_sql(p["field"]), p["days"]
        window = {
            "future": (f"{delta} BETWEEN 0 AND %s", [days]),
            "past": (f"{delta} BETWEEN %s AND 0", [-days]),
            "either": (f"{delta} BETWEEN %s AND %s", [-days, days]),
        }[p.get("direction", "future")]
        return f"{_column(p['field'])} IS NOT NULL AND {window[0]}", window[1], False
    if kind == K.EMAIL_DOMAIN_NOT_IN:
        domains = sorted({_norm(v) for v in p["domains"]})
        dom = _domain_sql(d)
        return f"{dom} <> '' AND {dom} NOT IN {_in(domains)}", domains, True
    return None  # pragma: no cover - validation refuses unknown kinds


def _activity_window(crit: dict[str, Any], column: str) -> tuple[str, str, list[Any]]:
    """An activity criterion's count at each row of `ev`: the event's own flag `column` (SQL on
    `e`, with the types as parameters), and its count over the lead's `days` up to the row (SQL
    on `ev`, with `days` as its one parameter). "At least one" is the lead's latest such event
    being recent enough, a running maximum in the window every running sum shares; a larger
    count is a window sum over a frame of `days`."""
    types, count = crit["params"]["types"], crit["params"].get("count", 1)
    flag = f"CASE WHEN e.type IN {_in(types)} THEN 1 ELSE 0 END"
    pg = connection.vendor == "postgresql"
    if count <= 1:
        latest = f"MAX(CASE WHEN ev.{column} = 1 THEN ev.t END) {LEAD_HISTORY}"
        recent = (
            f"{latest} >= ev.t - CAST(%s AS double precision) * INTERVAL '1 day'"
            if pg
            else f"julianday({latest}) >= julianday(ev.t) - %s"
        )
        return flag, f"CASE WHEN {recent} THEN 1 ELSE 0 END", list(types)
    order, offset = (
        ("ev.t", "CAST(%s AS double precision) * INTERVAL '1 day'")
        if pg
        else ("julianday(ev.t)", "%s")
    )
    return (
        flag,
        f"SUM(ev.{column}) OVER (PARTITION BY ev.lead_id ORDER BY {order} "
        f"RANGE BETWEEN {offset} PRECEDING AND CURRENT ROW)",
        list(types),
    )


class _Plan:
    """The draft's MQL criteria split into SQL on the lead alone, SQL on the moment, and
    Python; and the SELECT of the candidate moments of a span that pass both SQL parts."""

    def __init__(
        self, criteria: list[dict[str, Any]], scope: tuple[str, list[Any]] | None = None
    ) -> None:
        self.d = Dialect.current()
        self.rules = active_rules(RuleKind.ENGAGEMENT)
        self.activity = [c for c in criteria if c["kind"] == K.ACTIVITY_WITHIN]
        columns = {c["code"]: f"a{i}" for i, c in enumerate(self.activity)}
        self.lead_ok = [f"l.source NOT IN {_in(list(NOT_THROUGH_MQL))}"]
        self.lead_params: list[Any] = list(NOT_THROUGH_MQL)
        if scope is not None:  # only these leads (a role's scope: SQL selecting lead ids)
            self.lead_ok.append(f"l.id IN ({scope[0]})")
            self.lead_params += scope[1]
        self.moment_ok: list[str] = []
        self.moment_params: list[Any] = []
        self.python: list[dict[str, Any]] = []
        # At its creation a lead has no engagement and no activity yet: a draft that asks for
        # either cannot pass there, so those moments are not read at all.
        self.at_creation = not self.activity and not any(
            c["kind"] == K.SCORE_AT_LEAST and c["params"]["score"] == "engagement"
            and float(c["params"]["value"]) > 0
            for c in criteria
        )  # fmt: skip
        for crit in criteria:
            got = criterion_sql(crit, self.d, columns)
            if got is None:
                self.python.append(crit)
            elif got[2]:
                self.lead_ok.append(got[0])
                self.lead_params += got[1]
            else:
                self.moment_ok.append(got[0])
                self.moment_params += got[1]

    def moments(self, start: datetime, end: datetime) -> tuple[str, list[Any]]:
        """lead_id, t, eng, a0… of every moment in [start, end) that passes the SQL criteria.

        The events (up to `end`, of the leads that pass the criteria on the lead alone) are
        read once, each reduced to a few numbers (`ev`) before the one sort by lead and time
        that every running sum shares."""
        d, lead_table, scores = self.d, Lead._meta.db_table, LeadScore._meta.db_table
        win = engagement_window(self.rules, d, anchor_sql=d.as_of_param, anchor_params=[start])
        values = [(f"{sql} AS c{i}", ps) for i, (sql, ps) in enumerate(win.columns)]
        counts: list[str] = []
        days: list[Any] = []
        for i, crit in enumerate(self.activity):
            flag, count, types = _activity_window(crit, f"f{i}")
            values.append((f"{flag} AS f{i}", types))
            counts.append(f", {count} AS a{i}")
            days.append(crit["params"]["days"])
        per_event = "".join(f", {v}" for v, _ in values)
        names = "".join(f", a{i}" for i in range(len(counts)))
        zeros = "".join(f", 0 AS a{i}" for i in range(len(counts)))
        leads_ok = " AND ".join(self.lead_ok)
        scored = f"{lead_table} l LEFT JOIN {scores} s ON s.lead_id = l.id"
        sql = (
            f"SELECT w.lead_id, w.t, {d.round2.format('w.eng')} AS eng{names} FROM ("  # noqa: S608
            f"SELECT ev.lead_id, ev.t, {win.total} AS eng{''.join(counts)} FROM ("
            f"SELECT e.lead_id, e.occurred_at AS t, {win.since[0]} AS x{per_event} "
            "FROM leads_event e WHERE e.occurred_at < %s "
            f"AND e.lead_id IN (SELECT l.id FROM {scored} WHERE {leads_ok})) ev) w "
            "WHERE w.t >= %s"
        )
        params = [
            *days, *win.since[1], *[p for _, ps in values for p in ps], end, *self.lead_params,
            start,
        ]  # fmt: skip
        if self.at_creation:
            sql += (
                f" UNION ALL SELECT l.id, l.created_at, 0{zeros} FROM {scored} "  # noqa: S608
                f"WHERE l.created_at >= %s AND l.created_at < %s AND {leads_ok}"
            )
            params += [start, end, *self.lead_params]
        if self.moment_ok:
            sql = (
                f"SELECT x.* FROM ({sql}) x JOIN {lead_table} l ON l.id = x.lead_id "  # noqa: S608
                f"LEFT JOIN {scores} s ON s.lead_id = l.id WHERE {' AND '.join(self.moment_ok)}"
            )
            params += self.moment_params
        return sql, params


def _spans(period: Period, rules: list[Any]) -> Iterator[tuple[datetime, datetime]]:
    """The period in spans short enough for one anchor of the decay (one span as a rule)."""
    days = decay_span_days(rules)
    step = timedelta(days=days) if days else period.end - period.start
    start = period.start
    while start < period.end:
        yield start, min(start + step, period.end)
        start += step


def score_reach(
    *,
    criteria: list[dict[str, Any]],
    code: str,
    period: Period,
    scope: tuple[str, list[Any]] | None = None,
) -> tuple[str, list[Any]]:
    """SQL selecting `lead_id, m`: per lead, the highest value of the score that the
    `score_at_least` criterion `code` reads, at any moment of the period at which every other
    criterion passes (a criterion on a free attribute is left out). A lead would have become an
    MQL under threshold `v` in place of the criterion's own exactly when `m ≥ v`: one pass gives
    the whole threshold curve."""
    crit = next(c for c in criteria if c["code"] == code)
    plan = _Plan([c for c in criteria if c["code"] != code], scope)
    parts, params = [], []
    for start, end in _spans(period, plan.rules):
        sql, ps = plan.moments(start, end)
        parts.append(f"SELECT u.lead_id, u.eng FROM ({sql}) u")  # noqa: S608
        params += ps
    fit = "COALESCE(s.fit, 0)"
    score = {"engagement": "q.eng", "fit": fit, "total": f"({fit} + q.eng)"}[
        crit["params"]["score"]
    ]
    return (
        f"SELECT q.lead_id, MAX({score}) AS m FROM ({' UNION ALL '.join(parts)}) q "  # noqa: S608
        f"LEFT JOIN {LeadScore._meta.db_table} s ON s.lead_id = q.lead_id GROUP BY q.lead_id",
        params,
    )


def _as_datetime(t: Any) -> datetime:
    at = t if isinstance(t, datetime) else datetime.fromisoformat(str(t))
    return at.replace(tzinfo=UTC) if timezone.is_naive(at) else at  # SQLite: naive UTC text


def _first_passing(
    definition: Definition, period: Period, report: Callable[[float], None] | None
) -> None:
    """Fill `WOULD` with each lead's first passing moment in the period."""
    plan = _Plan(definition.stage(LeadState.MQL).get("criteria", []))
    spans = list(_spans(period, plan.rules))
    for n, (start, end) in enumerate(spans, 1):
        sql, params = plan.moments(start, end)
        new = f"NOT EXISTS (SELECT 1 FROM {WOULD} y WHERE y.lead_id = q.lead_id)"  # noqa: S608
        with connection.cursor() as cursor:
            if not plan.python and n == 1:
                # CREATE TABLE … AS, not INSERT … SELECT: PostgreSQL runs only the former's
                # query with parallel workers.
                cursor.execute(
                    f"CREATE TEMPORARY TABLE {WOULD}{_on_commit()} AS SELECT q.lead_id, "  # noqa: S608
                    f"MIN(q.t) AS t FROM ({sql}) q GROUP BY q.lead_id",
                    params,
                )
            elif not plan.python:
                cursor.execute(
                    f"INSERT INTO {WOULD} (lead_id, t) SELECT q.lead_id, MIN(q.t) FROM ({sql}) q "  # noqa: S608
                    f"WHERE {new} GROUP BY q.lead_id",
                    params,
                )
            else:
                if n == 1:
                    _temporary(cursor, WOULD)
                cursor.execute(f"SELECT q.* FROM ({sql}) q WHERE {new} ORDER BY 1, 2", params)  # noqa: S608
                _check_in_python(plan, cursor)
        if report:
            report(min(0.99, n / len(spans)))


def _check_in_python(plan: _Plan, cursor: Any) -> None:
    """The moments that pass the SQL criteria, in lead and time order: the first of each lead
    that passes the criteria left to Python goes to `WOULD`."""
    keys = [c["code"] for c in plan.activity]

    def flush(rows: list[tuple[Any, ...]]) -> None:
        leads = Lead.objects.select_related("scores").in_bulk({r[0] for r in rows})
        found: dict[int, datetime] = {}
        for lead_id, t, eng, *counts in rows:
            if lead_id in found:
                continue
            lead, at = leads[lead_id], _as_datetime(t)
            view = SimpleNamespace(
                **{f.attname: getattr(lead, f.attname) for f in Lead._meta.concrete_fields},
                fit_score=lead.fit_score, engagement_score=Decimal(str(eng or 0)),
            )  # fmt: skip
            by_code = dict(zip(keys, counts, strict=True))
            if all(
                evaluate_criterion(view, c, now=at, activity=_counter(c, by_code))["passed"]
                for c in plan.python
            ):
                found[lead_id] = at
        with connection.cursor() as out:
            insert = f"INSERT INTO {WOULD} (lead_id, t) VALUES (%s, %s)"  # noqa: S608
            out.executemany(insert, list(found.items()))

    pending: list[tuple[Any, ...]] = []
    while rows := cursor.fetchmany(5000):
        for row in rows:
            if pending and row[0] != pending[-1][0] and len({r[0] for r in pending}) >= BATCH:
                flush(pending)
                pending = []
            pending.append(row)
    if pending:
        flush(pending)


def _counter(crit: dict[str, Any], counts: dict[str, int]) -> Callable[[list[str], datetime], int]:
    return lambda types, since: int(counts.get(crit["code"], 0) or 0)


def _tqls_passing(definition: Definition) -> int | None:
    """With the IS stages (SPEC §13): of the leads that inside sales really worked (reached
    `tal`), how many meet the draft's TQL criteria with what IS heard (today's fields and
    activities, the approximation the field criteria make)."""
    from leads.selectors import lead_evaluate

    if not definition.has_inside_sales:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT tr.lead_id FROM {LeadTransition._meta.db_table} tr "  # noqa: S608
            f"JOIN {WOULD} w ON w.lead_id = tr.lead_id WHERE tr.to_state = %s ORDER BY 1",
            [LeadState.TAL],
        )
        ids = [row[0] for row in cursor.fetchall()]
    now, passing = timezone.now(), 0
    for start in range(0, len(ids), BATCH):
        for lead in Lead.objects.filter(pk__in=ids[start : start + BATCH]):
            rows = lead_evaluate(lead=lead, stage=LeadState.TQL, definition=definition, now=now)
            passing += bool(rows) and all(r["passed"] for r in rows)
    return passing


def _mql_in_period(alias: str) -> str:
    """Transition `alias` made its lead an MQL within the period (its bounds: two parameters)."""
    return f"{alias}.to_state = 'mql' AND {alias}.occurred_at >= %s AND {alias}.occurred_at < %s"


def _compare(mqls: str, bounds: list[Any]) -> dict[str, Any]:
    """The MQLs, TQLs, SQLs, wins and won revenue of each side, and the leads (and wins) only
    one side has. The published side is one pass over the period's MQLs (no temporary table
    in it, so PostgreSQL may run it with parallel workers). The draft's side reads the history
    of the draft's leads only, into `DRAFT` (per lead: reached TQL, SQL, really an MQL in the
    period, won). Only one side: each side's total less the leads both have."""
    history, leads = LeadTransition._meta.db_table, Lead._meta.db_table
    won = "l.state = 'won'"
    reached = (
        "MAX(CASE WHEN tr.to_state = 'tql' THEN 1 ELSE 0 END) AS tql, "
        "MAX(CASE WHEN tr.to_state = 'sql' THEN 1 ELSE 0 END) AS sqlx"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {DRAFT}{_on_commit()} AS SELECT w.lead_id, "  # noqa: S608
            "COALESCE(r.tql, 0) AS tql, COALESCE(r.sqlx, 0) AS sqlx, "
            "COALESCE(r.mql, 0) AS mql, "
            f"CASE WHEN {won} THEN 1 ELSE 0 END AS won, "
            f"CASE WHEN {won} THEN l.won_amount END AS amount "
            f"FROM {WOULD} w JOIN {leads} l ON l.id = w.lead_id LEFT JOIN ("
            f"SELECT tr.lead_id, {reached}, MAX(CASE WHEN {_mql_in_period('tr')} "
            f"THEN 1 ELSE 0 END) AS mql FROM {history} tr "
            f"WHERE tr.lead_id IN (SELECT lead_id FROM {WOULD}) GROUP BY tr.lead_id) r "
            "ON r.lead_id = w.lead_id",
            bounds,
        )
        cursor.execute(
            "SELECT COUNT(*), SUM(tql), SUM(sqlx), SUM(won), SUM(amount), SUM(mql), "  # noqa: S608
            f"SUM(mql * won) FROM {DRAFT}"
        )
        draft = [v or 0 for v in cursor.fetchone()]
        # Here most leads are read: one pass over the TQL and SQL transitions is cheaper.
        cursor.execute(
            "SELECT COUNT(*), SUM(COALESCE(r.tql, 0)), SUM(COALESCE(r.sqlx, 0)), "  # noqa: S608
            f"SUM(CASE WHEN {won} THEN 1 ELSE 0 END), SUM(CASE WHEN {won} THEN l.won_amount END) "
            f"FROM (SELECT DISTINCT a.lead_id {mqls}) i JOIN {leads} l ON l.id = i.lead_id "
            f"LEFT JOIN (SELECT tr.lead_id, {reached} FROM {history} tr "
            "WHERE tr.to_state IN ('tql', 'sql') GROUP BY tr.lead_id) r ON r.lead_id = l.id",
            bounds,
        )
        published = [v or 0 for v in cursor.fetchone()]
    out: dict[str, Any] = {}
    for name, row in (("draft", draft), ("published", published)):
        mq, tq, sq, wn, amount = row[:5]
        out[name] = {
            "mqls": int(mq), "tqls": int(tq), "sqls": int(sq), "won": int(wn),
            "won_amount": float(amount),
        }  # fmt: skip
    shared, shared_won = int(draft[5]), int(draft[6])
    out["entering"], out["entering_won"] = int(draft[0]) - shared, int(draft[3]) - shared_won
    out["leaving"] = int(published[0]) - shared
    out["leaving_won"] = int(published[3]) - shared_won
    return out


def _listed(sql: str, params: list[Any]) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} ORDER BY 1 LIMIT {LIST_LIMIT}", params)
        return [row[0] for row in cursor.fetchall()]


def _on_commit() -> str:
    """PostgreSQL drops the backtest's temporary table at commit; SQLite's caller drops it."""
    return " ON COMMIT DROP" if connection.vendor == "postgresql" else ""


def _temporary(cursor: Any, table: str) -> None:
    """An empty temporary table of leads and a moment."""
    stamp = "timestamptz" if connection.vendor == "postgresql" else "timestamp"
    cursor.execute(f"CREATE TEMPORARY TABLE {table} (lead_id bigint, t {stamp}){_on_commit()}")


def backtest(
    *, definition: Definition, period: Period, report: Callable[[float], None] | None = None
) -> dict[str, Any]:
    """The draft (saved or not: the editor's what-if passes one built from the form) next to
    what the published versions did over `period`."""
    history, leads = LeadTransition._meta.db_table, Lead._meta.db_table
    in_period = _mql_in_period("a")
    mqls = f"FROM {history} a WHERE {in_period}"
    bounds = [period.start, period.end]
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One sort of the events for the windows: in memory, bounded, this transaction only.
            cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.SCORING_WORK_MEM])
            cursor.execute("SELECT set_config('jit', 'off', true)")
            # A backtest is one analytic query, run rarely: let the scan, the join with the
            # leads and the sort of the events use the parallel workers the server allows.
            cursor.execute("SELECT set_config('parallel_setup_cost', '0', true)")
            cursor.execute("SELECT set_config('parallel_tuple_cost', '0.01', true)")
        cursor.execute(f"DROP TABLE IF EXISTS {WOULD}")
        cursor.execute(f"DROP TABLE IF EXISTS {DRAFT}")
        try:
            _first_passing(definition, period, report)
            if connection.vendor == "postgresql":
                cursor.execute(f"ANALYZE {WOULD}")
            compared = _compare(mqls, bounds)
            # The versions that made MQLs in the period: one probe per version.
            cursor.execute(
                f"SELECT d.id FROM {Definition._meta.db_table} d WHERE EXISTS (SELECT 1 "  # noqa: S608
                f"FROM {history} a WHERE a.definition_id = d.id AND {in_period}) ORDER BY 1",
                bounds,
            )
            published = [row[0] for row in cursor.fetchall()]
            # The first leads only one side has.
            entering = _listed(f"SELECT lead_id FROM {DRAFT} WHERE mql = 0", [])  # noqa: S608
            leaving = _listed(
                f"SELECT l.id FROM {leads} l WHERE EXISTS (SELECT 1 FROM {history} a "  # noqa: S608
                f"WHERE a.lead_id = l.id AND {in_period}) "
                f"AND NOT EXISTS (SELECT 1 FROM {WOULD} w WHERE w.lead_id = l.id)",
                bounds,
            )
            cursor.execute(f"SELECT lead_id, t FROM {WOULD} ORDER BY 1 LIMIT {LIST_LIMIT}")  # noqa: S608
            first = {str(k): _as_datetime(t).isoformat() for k, t in cursor.fetchall()}
            result = {
                "period": {"from": period.start.isoformat(), "to": period.end.isoformat()},
                "draft": {
                    "definition": definition.pk,
                    **compared["draft"],
                    "tqls_passing": _tqls_passing(definition),
                },
                "published": {"definitions": published, **compared["published"]},
                "entering_count": compared["entering"],
                "leaving_count": compared["leaving"],
                "entering": entering,
                "leaving": leaving,
                # Wins the draft would add (won leads it qualifies that were not MQLs) and wins
                # it would miss (won MQLs it leaves out): the what-if's "captured and missed".
                "entering_won": compared["entering_won"],
                "leaving_won": compared["leaving_won"],
                "first_qualified_at": first,
            }
        finally:
            if connection.vendor == "sqlite":
                cursor.execute(f"DROP TABLE IF EXISTS {WOULD}")
                cursor.execute(f"DROP TABLE IF EXISTS {DRAFT}")
    return result


def backtest_start(*, definition: Definition, period: Period, actor: Actor) -> Job:
    """The backtest of `definition` over `period` as a job, sent to a worker after commit."""
    return job_start(kind="backtest", actor=actor, params={
        "definition": definition.pk, "from": period.start.isoformat(),
        "to": period.end.isoformat(),
    })  # fmt: skip
