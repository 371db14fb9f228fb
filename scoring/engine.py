"""The set-based scoring engine: one UPDATE … FROM (aggregate over events) per chunk of leads.

Every active engagement rule becomes one conditional SUM in a single pass over the events of
the chunk (filtered to the rules' event types); fit rules are CASE expressions over the lead row.
Full and incremental recomputes run the same statement with a different lead filter, so they
cannot disagree. The arithmetic is the one in `scoring.reference`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min

from leads.definitions import CRITERIA_FIELDS
from leads.models import Event, Lead, LeadScore, RescoreMark
from scoring.choices import FitOp, PropertyOp, RuleKind
from scoring.models import ScoringRule


@dataclass(frozen=True)
class Dialect:
    least: str
    greatest: str
    age_days: str  # SQL for the age in days of e.occurred_at at the as-of expression {0}
    as_of_param: str  # the as-of expression for a datetime parameter
    round2: str
    strpos: str  # position of needle in haystack: {0} haystack, {1} needle
    prop_text: str  # the text of JSON property {0} (a key parameter placeholder) of e
    prop_type: str  # true if JSON property {0} of e is a string

    @staticmethod
    def current() -> Dialect:
        if connection.vendor == "postgresql":
            return Dialect(
                least="LEAST",
                greatest="GREATEST",
                age_days="(EXTRACT(EPOCH FROM ({0} - e.occurred_at)) / 86400.0)",
                as_of_param="%s::timestamptz",
                round2="ROUND(CAST({0} AS NUMERIC), 2)",
                strpos="strpos({0}, {1})",
                prop_text="(e.properties ->> {0})",
                prop_type="jsonb_typeof(e.properties -> {0}) = 'string'",
            )
        return Dialect(
            least="MIN",
            greatest="MAX",
            age_days="(julianday({0}) - julianday(e.occurred_at))",
            as_of_param="%s",
            round2="ROUND({0}, 2)",
            strpos="instr({0}, {1})",
            prop_text="json_extract(e.properties, {0})",
            prop_type="json_type(e.properties, {0}) = 'text'",
        )


def _prop_key_param(key: str) -> str:
    return key if connection.vendor == "postgresql" else f'$."{key}"'


def active_rules(kind: str) -> list[ScoringRule]:
    return list(ScoringRule.objects.filter(kind=kind, is_active=True).order_by("id"))


def _is_plain(rule: ScoringRule) -> bool:
    """Neither decayed nor capped: its points per event do not depend on when it is computed."""
    return not rule.half_life_days and rule.cap is None


def _condition(rule: ScoringRule, d: Dialect) -> tuple[str, list[Any]]:
    """Whether event `e` matches the rule: its type, then any property match."""
    cond, params = "e.type = %s", list[Any]([rule.event_type])
    if rule.property_key:
        # Cheap tests first (CASE conditions short-circuit); the JSON type check is last.
        key = _prop_key_param(rule.property_key)
        text = d.prop_text.format("%s")
        if rule.property_op == PropertyOp.CONTAINS:
            cond += f" AND {d.strpos.format(text, '%s')} > 0"
            params += [key, rule.property_value]
        elif rule.property_op == PropertyOp.PREFIX:
            cond += f" AND substr({text}, 1, %s) = %s"
            params += [key, len(rule.property_value), rule.property_value]
        else:
            cond += f" AND {text} = %s"
            params += [key, rule.property_value]
        cond += f" AND {d.prop_type.format('%s')}"
        params += [key]
    return cond, params


# The version of the matching code (`_condition`, `plain_points`): how an event is matched and
# counted. Change it with any change to what a rule matches, so every stored point computed by
# the old code is evaluated afresh (and repointed) instead of silently kept.
MATCHER_VERSION = 1


def points_key(rules: list[ScoringRule], matcher: int | None = None) -> int:
    """A fingerprint of the plain engagement rules and of the code that matches them, stored
    with the points an event was given at ingest: an event whose key differs from the current
    one is evaluated afresh."""
    plain = sorted(
        [r.event_type, r.property_key, r.property_op, r.property_value, repr(float(r.points))]
        for r in rules
        if _is_plain(r)
    )
    version = MATCHER_VERSION if matcher is None else matcher
    digest = hashlib.sha256(json.dumps([version, plain]).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def plain_points(rules: list[ScoringRule], d: Dialect) -> tuple[str, list[Any]]:
    """The points event `e` gets from the plain rules (the part stored at ingest)."""
    terms: list[str] = []
    params: list[Any] = []
    # Rules that need only the event type share one `CASE e.type WHEN … THEN <summed points>`.
    by_type: dict[str, float] = {}
    for rule in rules:
        if _is_plain(rule) and not rule.property_key:
            by_type[rule.event_type] = by_type.get(rule.event_type, 0.0) + float(rule.points)
    if by_type:
        terms.append("CASE e.type " + " ".join("WHEN %s THEN %s" for _ in by_type) + " ELSE 0 END")
        params += [v for t, p in by_type.items() for v in (t, p)]
    for rule in rules:
        if _is_plain(rule) and rule.property_key:
            cond, cparams = _condition(rule, d)
            terms.append(f"CASE WHEN {cond} THEN %s ELSE 0 END")
            params += [*cparams, float(rule.points)]
    return (" + ".join(terms) if terms else "0"), params


def event_points_sql() -> tuple[str, list[Any], int]:
    """For the event insert: the SQL of an event's plain points, its parameters, and the key."""
    rules = active_rules(RuleKind.ENGAGEMENT)
    sql, params = plain_points(rules, Dialect.current())
    return sql, params, points_key(rules)


def engagement_terms(
    rules: list[ScoringRule], d: Dialect, *, as_of: datetime | None, as_of_sql: str | None = None
) -> tuple[str, list[Any]]:
    """The engagement of the events `e` (aggregated) as of a parameter `as_of`, or as of the SQL
    expression `as_of_sql` (the backtest's candidate times): one SUM per capped rule, one for the
    rest.

    The plain rules' share is the event's stored `points` when it was computed under the current
    rules (its `points_key`), and is evaluated from the event otherwise: a stale or missing value
    costs time, never correctness."""
    at_sql = as_of_sql or d.as_of_param
    at_params: list[Any] = [] if as_of_sql else [as_of]
    capped: list[tuple[str, list[Any]]] = []  # one SUM each: a cap applies per rule
    uncapped: list[tuple[str, list[Any]]] = []  # added inside one SUM: a single aggregate state
    if any(_is_plain(r) for r in rules):
        live, live_params = plain_points(rules, d)
        uncapped.append(
            (
                f"CASE WHEN e.points_key = %s THEN e.points ELSE {live} END",
                [points_key(rules), *live_params],
            )
        )
    for rule in rules:
        if _is_plain(rule):
            continue
        cond, cparams = _condition(rule, d)
        value = "%s"
        vparams: list[Any] = [float(rule.points)]
        if rule.half_life_days:
            value = f"%s * POWER(0.5, {d.greatest}({d.age_days.format(at_sql)}, 0) / %s)"
            vparams = [float(rule.points), *at_params, float(rule.half_life_days)]
        # CASE WHEN cond THEN value: the cond parameters come first in the SQL text.
        case = f"CASE WHEN {cond} THEN {value} ELSE 0 END"
        if rule.cap is not None:
            capped.append(
                (f"{d.least}(COALESCE(SUM({case}), 0), %s)", [*cparams, *vparams, float(rule.cap)])
            )
        else:
            uncapped.append((case, cparams + vparams))
    terms, params = [], []
    if uncapped:
        terms.append("COALESCE(SUM(" + " + ".join(t for t, _ in uncapped) + "), 0)")
        params += [p for _, ps in uncapped for p in ps]
    for term, ps in capped:
        terms.append(term)
        params += ps
    return " + ".join(terms), params


# The window of one lead's events up to and including the current row's moment (its peers at the
# same moment included): `e.occurred_at <= t`, the frame of the backtest's engagement as of t.
LEAD_HISTORY = "OVER (PARTITION BY ev.lead_id ORDER BY ev.t)"
# Exponents of 2 are kept within ±EXP_BOUND so no power overflows or underflows a double; a term
# as small as 2^-1000 is a point decayed for a thousand half-lives, which rounds to nothing.
EXP_BOUND = 1000


@dataclass(frozen=True)
class EngagementWindow:
    """The engagement of each event as of its own moment, over its lead's events up to it: the
    same arithmetic as `engagement_terms(as_of_sql=…)`, as running sums instead of a self-join.

    `columns` are values of each event `e` (SQL, parameters), to be selected as `c0, c1, …` beside
    `lead_id`, `t` (its moment) and `x` (`since`: the days from the anchor to it) in a subquery
    `ev`; `total` is the engagement of a row of `ev`, from window sums of those columns.

    A decayed rule's `points · 0.5^((t − tᵢ)/h)` is `0.5^((t − a)/h) · Σ points · 2^((tᵢ − a)/h)`
    for any anchor `a`: the sum is a running sum, the factor is the row's own. The caller keeps
    the rows it reads within `decay_span_days` of the anchor (and the events it sums before the
    end of those rows), so neither power leaves a double's range."""

    since: tuple[str, list[Any]]
    columns: list[tuple[str, list[Any]]]
    total: str


def engagement_window(
    rules: list[ScoringRule], d: Dialect, *, anchor_sql: str, anchor_params: list[Any]
) -> EngagementWindow:
    since = f"(-{d.age_days.format(anchor_sql)})"  # days from the anchor to e.occurred_at

    def bounded(days: str, half_life: float) -> str:
        return f"{d.greatest}({d.least}({days} / {half_life!r}, {EXP_BOUND}), -{EXP_BOUND})"

    columns: list[tuple[str, list[Any]]] = []
    totals: list[str] = []
    if any(_is_plain(r) for r in rules):
        live, live_params = plain_points(rules, d)
        columns.append((
            f"CASE WHEN e.points_key = %s THEN e.points ELSE {live} END",
            [points_key(rules), *live_params],
        ))  # fmt: skip
        totals.append(f"SUM(ev.c0) {LEAD_HISTORY}")
    for rule in rules:
        if _is_plain(rule):
            continue
        cond, cparams = _condition(rule, d)
        name = f"ev.c{len(columns)}"
        if rule.half_life_days:
            h = float(rule.half_life_days)
            columns.append((
                f"CASE WHEN {cond} THEN %s * POWER(2, {bounded(since, h)}) ELSE 0 END",
                [*cparams, float(rule.points), *anchor_params],
            ))  # fmt: skip
            term = f"SUM({name}) {LEAD_HISTORY} * POWER(0.5, {bounded('ev.x', h)})"
        else:
            columns.append((f"CASE WHEN {cond} THEN %s ELSE 0 END", [*cparams, float(rule.points)]))
            term = f"SUM({name}) {LEAD_HISTORY}"
        if rule.cap is not None:
            term = f"{d.least}({term}, {float(rule.cap)!r})"
        totals.append(term)
    return EngagementWindow(
        since=(since, list(anchor_params)), columns=columns, total=" + ".join(totals) or "0"
    )


def decay_span_days(rules: list[ScoringRule]) -> float | None:
    """How many days of rows one anchor of `engagement_window` may cover (None: any)."""
    lives = [float(r.half_life_days) for r in rules if r.half_life_days]
    return (EXP_BOUND - 100) * min(lives) if lives else None


def events_repoint(*, chunk_size: int) -> Iterator[tuple[int, int, int]]:
    """Store the current plain points on every event computed under other rules (after a rule
    change), one id range per transaction. Yields (lo, hi, updated) after each range."""
    table = Event._meta.db_table
    bounds = Event.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return
    for start in range(bounds["lo"], bounds["hi"] + 1, chunk_size):
        end = start + chunk_size
        # Read the rules per range: a rule changed meanwhile gives later ranges its key.
        sql, params, key = event_points_sql()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS e SET points = {sql}, points_key = %s "  # noqa: S608
                "WHERE e.id >= %s AND e.id < %s AND (e.points_key IS NULL OR e.points_key <> %s)",
                [*params, key, start, end, key],
            )
            yield start, end, int(cursor.rowcount)


def _engagement_sql(
    rules: list[ScoringRule],
    d: Dialect,
    as_of: datetime,
    lead_filter: str,
    filter_params: list[Any],
) -> tuple[str, list[Any]]:
    """SELECT lead_id, eng FROM events of the filtered leads, one conditional SUM per rule."""
    event_table = Event._meta.db_table
    expr, params = engagement_terms(rules, d, as_of=as_of)
    types = sorted({r.event_type for r in rules})
    sql = (
        f"SELECT e.lead_id AS lead_id, {expr} AS eng FROM {event_table} e "  # noqa: S608
        f"WHERE {lead_filter.format(col='e.lead_id')} "
        f"AND e.type IN ({', '.join(['%s'] * len(types))}) "
        "GROUP BY e.lead_id"
    )
    return sql, params + filter_params + types


def _fit_sql(rules: list[ScoringRule], d: Dialect) -> tuple[str, list[Any]]:
    terms, params = [], []
    qn = connection.ops.quote_name
    for rule in rules:
        op = FitOp(rule.operator)
        if op == FitOp.EMAIL_DOMAIN_IN:
            col = f"LOWER(substr(l.email, {d.strpos.format('l.email', repr('@'))} + 1))"
            cond, cparams = (
                f"{col} IN ({', '.join(['%s'] * len(rule.values))})",
                [str(v).lower() for v in rule.values],
            )
        else:
            if rule.field not in CRITERIA_FIELDS:  # validated on write; never interpolate others
                raise ValueError(rule.field)
            col = f"l.{qn(rule.field)}"
            numeric = CRITERIA_FIELDS[rule.field] == "number"
            if op == FitOp.PRESENT:
                cond, cparams = (f"{col} IS NOT NULL" if numeric else f"{col} <> ''"), []
            elif op == FitOp.BETWEEN:
                parts, cparams = [], []
                if rule.values[0] is not None:
                    parts.append(f"{col} >= %s")
                    cparams.append(rule.values[0])
                if rule.values[1] is not None:
                    parts.append(f"{col} <= %s")
                    cparams.append(rule.values[1])
                cond = " AND ".join([f"{col} IS NOT NULL", *parts])
            elif op == FitOp.CONTAINS:
                cond = (
                    "("
                    + " OR ".join(
                        [f"{d.strpos.format(f'LOWER({col})', '%s')} > 0"] * len(rule.values)
                    )
                    + ")"
                )
                cparams = [str(v).lower() for v in rule.values]
            else:
                cond = f"LOWER({col}) IN ({', '.join(['%s'] * len(rule.values))}) AND {col} <> ''"
                cparams = [str(v).lower() for v in rule.values]
        terms.append(f"CASE WHEN {cond} THEN %s ELSE 0 END")
        params += [*cparams, float(rule.points)]
    return (" + ".join(terms) if terms else "0"), params


def compute_select(
    *, as_of: datetime, lead_filter: str, filter_params: list[Any]
) -> tuple[str, list[Any]]:
    """SELECT lead_id, version, fit, eng for the leads matching `lead_filter` (on `{col}`).

    `version` is the lead's score row version read in the same snapshot as its events, so a
    later write can tell whether another one wrote the row since."""
    d = Dialect.current()
    eng_rules, fit_rules = active_rules(RuleKind.ENGAGEMENT), active_rules(RuleKind.FIT)
    fit_expr, fit_params = _fit_sql(fit_rules, d)
    lead_table, score_table = Lead._meta.db_table, LeadScore._meta.db_table
    if eng_rules:
        eng_sql, eng_params = _engagement_sql(eng_rules, d, as_of, lead_filter, filter_params)
        join, eng_col = (
            f"LEFT JOIN ({eng_sql}) a ON a.lead_id = l.id",
            d.round2.format("COALESCE(a.eng, 0)"),
        )
    else:
        join, eng_col, eng_params = "", d.round2.format("0"), []
    sql = (
        f"SELECT l.id AS lead_id, COALESCE(ls.version, 0) AS version, "  # noqa: S608
        f"{d.round2.format(fit_expr)} AS fit, {eng_col} AS eng "
        f"FROM {lead_table} l LEFT JOIN {score_table} ls ON ls.lead_id = l.id {join} "
        f"WHERE {lead_filter.format(col='l.id')}"
    )
    return sql, fit_params + eng_params + filter_params


def _write_sql(source: str, target: str, *, unchanged_since_read: bool) -> str:
    """The UPDATE of computed scores (`source` yields lead_id, version, fit, eng) into the score
    rows whose `lead_id` matches `target` (the same leads, said again so the planner reaches them
    by key) and whose scores differ. Each write adds one to `version`.

    With `unchanged_since_read`, a row is written only if its version is still the one `source`
    read (`t` is the row as it is now): a newer write by someone else stands."""
    guard = " AND t.version = s.version" if unchanged_since_read else ""
    return (
        f"UPDATE {LeadScore._meta.db_table} AS t SET fit = s.fit, engagement = s.eng, "  # noqa: S608
        f"version = t.version + 1 FROM ({source}) s "
        f"WHERE t.lead_id = s.lead_id AND {target.format(col='t.lead_id')} "
        f"AND (t.fit <> s.fit OR t.engagement <> s.eng){guard}"
    )


def _in(ids: Sequence[int]) -> str:
    return "(" + ", ".join(["%s"] * len(ids)) + ")"


def rescore(*, as_of: datetime, ids: Sequence[int]) -> int:
    """Incremental: recompute the given leads and consume their rescore marks, in the caller's
    transaction. Returns the number of score rows changed.

    Their score rows are locked first, so two rescores of a lead take turns. The marks are
    deleted before the scores are computed: whatever a mark stood for was committed before the
    DELETE saw it, so the computation (a later snapshot) includes it. A mark committed after the
    DELETE stays for the next rescore."""
    if not ids:
        return 0
    ids = sorted(set(ids))
    table, marks = LeadScore._meta.db_table, RescoreMark._meta.db_table
    with connection.cursor() as cursor:
        # One statement inserts the missing score rows and locks the others, in id order: an
        # ON CONFLICT DO UPDATE locks every conflicting row, even one its WHERE leaves unchanged.
        # (SQLite has no row locks: the statement takes its one write lock.)
        cursor.execute(
            f"INSERT INTO {table} AS t (lead_id, fit, engagement, version) "  # noqa: S608
            f"SELECT l.id, 0, 0, 0 FROM {Lead._meta.db_table} l WHERE l.id IN {_in(ids)} "
            "ORDER BY l.id ON CONFLICT (lead_id) DO UPDATE SET version = t.version WHERE FALSE",
            ids,
        )
        cursor.execute(f"DELETE FROM {marks} WHERE lead_id IN {_in(ids)} RETURNING lead_id", ids)  # noqa: S608
        consumed = {row[0] for row in cursor.fetchall()}
        lead_filter = "{col} IN " + _in(ids)
        source, params = compute_select(as_of=as_of, lead_filter=lead_filter, filter_params=ids)
        # SQLite's RETURNING names the target's columns without its alias (and knows no other).
        returning = "t.lead_id" if connection.vendor == "postgresql" else "lead_id"
        cursor.execute(
            f"{_write_sql(source, lead_filter, unchanged_since_read=False)} RETURNING {returning}",
            params + ids,
        )
        changed = {row[0] for row in cursor.fetchall()}
        # A consumed mark counts as a write even when the scores came out the same, so that a
        # full recompute's older snapshot cannot overwrite what this one saw.
        if bumped := sorted(consumed - changed):
            cursor.execute(
                f"UPDATE {table} SET version = version + 1 WHERE lead_id IN {_in(bumped)}",  # noqa: S608
                bumped,
            )
    return len(changed)


STAGE = "scoring_stage"


def full_recompute(*, as_of: datetime, chunk_size: int) -> Iterator[tuple[int, int, int]]:
    """Full: one aggregate pass over all events into a temporary stage table, then one write per
    chunk of lead ids, each in its own transaction. Yields (lo, hi, changed) after each chunk."""
    source, params = compute_select(as_of=as_of, lead_filter="1 = 1", filter_params=[])
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Enough memory for a hash aggregate over every lead (instead of a sort spilled to
            # disk); bounded, for this one statement's transaction only.
            cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.SCORING_WORK_MEM])
            # JIT compilation costs more than it saves on this one-pass aggregate.
            cursor.execute("SELECT set_config('jit', 'off', true)")
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cursor.execute(f"CREATE TEMPORARY TABLE {STAGE} AS {source}", params)
        cursor.execute(f"CREATE INDEX {STAGE}_lead ON {STAGE} (lead_id)")
        cursor.execute(f"ANALYZE {STAGE}")
        cursor.execute(f"SELECT MIN(lead_id), MAX(lead_id) FROM {STAGE}")  # noqa: S608
        lo, hi = cursor.fetchone()
    table = LeadScore._meta.db_table
    try:
        if lo is None:
            return
        for start in range(lo, hi + 1, chunk_size):
            end = min(start + chunk_size, hi + 1)
            chunk = (
                f"SELECT lead_id, version, fit, eng FROM {STAGE} "  # noqa: S608
                "WHERE lead_id >= %s AND lead_id < %s"
            )
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} (lead_id, fit, engagement, version) "  # noqa: S608
                    f"SELECT s.lead_id, 0, 0, 0 FROM ({chunk}) s "
                    f"WHERE NOT EXISTS (SELECT 1 FROM {table} x WHERE x.lead_id = s.lead_id) "
                    "ON CONFLICT (lead_id) DO NOTHING",
                    [start, end],
                )
                target = "{col} >= %s AND {col} < %s"
                cursor.execute(
                    _write_sql(chunk, target, unchanged_since_read=True), [start, end, start, end]
                )
                changed = int(cursor.rowcount)
            yield start, end, changed
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
