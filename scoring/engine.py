"""The set-based scoring engine: one UPDATE … FROM (aggregate over events) per chunk of leads.

Every active engagement rule becomes one conditional SUM in a single pass over the events of
the chunk (filtered to the rules' event types); fit rules are CASE expressions over the lead row.
Full and incremental recomputes run the same statement with a different lead filter, so they
cannot disagree. The arithmetic is the one in `scoring.reference`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from leads.definitions import CRITERIA_FIELDS
from leads.models import Event, Lead
from scoring.choices import FitOp, PropertyOp, RuleKind
from scoring.models import ScoringRule


@dataclass(frozen=True)
class Dialect:
    least: str
    greatest: str
    age_days: str  # SQL for age in days of e.occurred_at at the %s parameter `as_of`
    round2: str
    strpos: str  # position of needle in haystack: {0} haystack, {1} needle
    prop_text: str  # a string JSON property of e: {0} is the key parameter placeholder

    @staticmethod
    def current() -> Dialect:
        if connection.vendor == "postgresql":
            return Dialect(
                least="LEAST",
                greatest="GREATEST",
                age_days="(EXTRACT(EPOCH FROM (%s::timestamptz - e.occurred_at)) / 86400.0)",
                round2="ROUND(CAST({0} AS NUMERIC), 2)",
                strpos="strpos({0}, {1})",
                prop_text="(CASE WHEN jsonb_typeof(e.properties -> {0}) = 'string' "
                "THEN e.properties ->> {0} END)",
            )
        return Dialect(
            least="MIN",
            greatest="MAX",
            age_days="(julianday(%s) - julianday(e.occurred_at))",
            round2="ROUND({0}, 2)",
            strpos="instr({0}, {1})",
            prop_text="(CASE WHEN json_type(e.properties, {0}) = 'text' "
            "THEN json_extract(e.properties, {0}) END)",
        )


def _prop_key_param(key: str) -> str:
    return key if connection.vendor == "postgresql" else f'$."{key}"'


def active_rules(kind: str) -> list[ScoringRule]:
    return list(ScoringRule.objects.filter(kind=kind, is_active=True).order_by("id"))


def _engagement_sql(
    rules: list[ScoringRule],
    d: Dialect,
    as_of: datetime,
    lead_filter: str,
    filter_params: list[Any],
) -> tuple[str, list[Any]]:
    """SELECT lead_id, eng FROM events of the filtered leads, one conditional SUM per rule."""
    event_table = Event._meta.db_table
    terms, params = [], []
    for rule in rules:
        cond, cparams = "e.type = %s", list[Any]([rule.event_type])
        if rule.property_key:
            prop = d.prop_text.format("%s")
            key = _prop_key_param(rule.property_key)
            nparams = prop.count("%s")
            if rule.property_op == PropertyOp.CONTAINS:
                cond += f" AND {d.strpos.format(prop, '%s')} > 0"
            elif rule.property_op == PropertyOp.PREFIX:
                cond += f" AND substr({prop}, 1, %s) = %s"
            else:
                cond += f" AND {prop} = %s"
            cparams += [key] * nparams
            if rule.property_op == PropertyOp.PREFIX:
                cparams += [len(rule.property_value)]
            cparams += [rule.property_value]
        value = "%s"
        vparams: list[Any] = [float(rule.points)]
        if rule.half_life_days:
            value = f"%s * POWER(0.5, {d.greatest}({d.age_days}, 0) / %s)"
            vparams = [float(rule.points), as_of, float(rule.half_life_days)]
        term = f"COALESCE(SUM(CASE WHEN {cond} THEN {value} END), 0)"
        tparams = cparams + vparams
        if rule.cap is not None:
            term = f"{d.least}({term}, %s)"
            tparams.append(float(rule.cap))
        terms.append(term)
        # CASE WHEN cond THEN value: cond params come before value params in the SQL text.
        params += tparams
    types = sorted({r.event_type for r in rules})
    sql = (
        f"SELECT e.lead_id AS lead_id, {' + '.join(terms)} AS eng FROM {event_table} e "  # noqa: S608
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


def rescore(
    *, as_of: datetime, id_range: tuple[int, int] | None = None, ids: Sequence[int] | None = None
) -> int:
    """Recompute fit and engagement for the leads in `id_range` [lo, hi) or `ids`; one statement.
    Returns the number of leads whose row changed."""
    if ids is not None:
        if not ids:
            return 0
        lead_filter = "{col} IN (" + ", ".join(["%s"] * len(ids)) + ")"
        filter_params: list[Any] = list(ids)
    else:
        assert id_range is not None
        lead_filter, filter_params = "{col} >= %s AND {col} < %s", list(id_range)
    d = Dialect.current()
    eng_rules, fit_rules = active_rules(RuleKind.ENGAGEMENT), active_rules(RuleKind.FIT)
    fit_expr, fit_params = _fit_sql(fit_rules, d)
    lead_table = Lead._meta.db_table
    if eng_rules:
        eng_sql, eng_params = _engagement_sql(eng_rules, d, as_of, lead_filter, filter_params)
        join, eng_col = (
            f"LEFT JOIN ({eng_sql}) a ON a.lead_id = l.id",
            d.round2.format("COALESCE(a.eng, 0)"),
        )
    else:
        join, eng_col, eng_params = "", "0", []
    sql = (
        f"UPDATE {lead_table} SET fit_score = s.fit, engagement_score = s.eng, "  # noqa: S608
        f"needs_rescore = ({lead_table}.rescore_seq <> s.seq) "
        f"FROM (SELECT l.id AS id, l.rescore_seq AS seq, "
        f"{d.round2.format(fit_expr)} AS fit, {eng_col} AS eng "
        f"FROM {lead_table} l {join} WHERE {lead_filter.format(col='l.id')}) s "
        f"WHERE {lead_table}.id = s.id AND ({lead_table}.fit_score <> s.fit "
        f"OR {lead_table}.engagement_score <> s.eng OR {lead_table}.needs_rescore)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, fit_params + eng_params + filter_params)
        return cursor.rowcount
