"""The definition advisor (SPEC §14): what predicts winning, and what to change.

Over the leads whose outcome became known in the period (their last `win`, or `lose`, `reject`,
`disqualify`, `is_disqualify`, in the period) that had reached the stage asked for (`mql` or
`sql`), read once into a temporary table:

* per value of each candidate attribute (industry, company-size band, title seniority, source,
  campaign, country, free-mail, today's engagement and fit bands, and each common event type in
  the 30 days before the lead first reached the stage): the win rate with its 95% Wilson
  interval, the lift against the base rate and the wins above what the base rate gives;
* per criterion of the published MQL stage: the win rates of the leads that pass and that fail
  it at their first MQL moment (the backtest's SQL for a criterion), their difference with its
  interval, and the rejections citing it;
* per `score_at_least` criterion, the threshold curve (one pass over the backtest's moments) and
  the highest threshold keeping 95% of the wins; per `field_in` criterion, the values to add or
  drop;
* the findings, ranked by the wins at stake, each with the one change it suggests
  (`apply_suggestion` makes the draft).

Every figure is set-based SQL; memory does not grow with the leads.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from datetime import timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from analytics.models import AdvisorSnapshot
from leads.choices import CriterionKind, LeadState, TransitionName
from leads.definitions import _norm
from leads.models import Definition, Lead, LeadScore, LeadTransition
from scoring.choices import RuleKind
from scoring.engine import Dialect, active_rules, engagement_terms

if TYPE_CHECKING:
    from collections.abc import Callable

    from analytics.periods import Period
    from leadflow.models import Job
    from leadflow.types import Actor, Caller

K = CriterionKind
# A criterion "predicts nothing" only when enough leads fail it to say so.
MIN_FAILING = 10
# The threshold suggestion: the highest threshold that still keeps this share of the wins.
KEEP_WINS = 0.95

T = TransitionName
NOT_WON = (T.LOSE, T.REJECT, T.DISQUALIFY, T.IS_DISQUALIFY)
OUTCOMES = (T.WIN, *NOT_WON)
STAGES = {"mql": LeadState.MQL, "sql": LeadState.SQL}
Z95 = 1.959963984540054
FREE_MAIL = ("gmail.com", "yahoo.co.jp", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com")
SENIOR = ("部長", "本部長", "取締役", "社長", "役員", "CTO", "CEO", "CIO", "VP", "Director",
          "Head", "Chief")  # fmt: skip


def wilson(won: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (95% by default)."""
    if n == 0:
        return None
    p = won / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _size_band() -> Case:
    return Case(
        When(company_size__isnull=True, then=Value("")),
        When(company_size__lt=50, then=Value("1-49")),
        When(company_size__lt=300, then=Value("50-299")),
        When(company_size__lt=1000, then=Value("300-999")),
        default=Value("1000+"),
        output_field=CharField(),
    )


def _score_band(score: str, edges: tuple[int, ...]) -> Case:
    """The band of the lead's score today (`scores__<score>`): below the first edge, between
    two edges, or at least the last one."""
    column = f"scores__{score}"
    whens = [When(**{f"{column}__isnull": True}, then=Value(""))]
    whens += [When(**{f"{column}__lt": edges[0]}, then=Value(f"<{edges[0]}"))]
    whens += [When(**{f"{column}__lt": high}, then=Value(f"{low}-{high - 1}"))
              for low, high in pairwise(edges)]  # fmt: skip
    return Case(*whens, default=Value(f"{edges[-1]}+"), output_field=CharField())


def _free_mail() -> Case:
    q = Q()
    for domain in FREE_MAIL:
        q |= Q(email__iendswith=f"@{domain}")
    return Case(When(q, then=Value("yes")), default=Value("no"), output_field=CharField())


def _seniority() -> Case:
    q = Q()
    for word in SENIOR:
        q |= Q(title__icontains=word)
    return Case(
        When(title="", then=Value("")), When(q, then=Value("senior")),
        default=Value("other"), output_field=CharField(),
    )  # fmt: skip


# Candidate attribute → the expression of its value.
ATTRIBUTES: dict[str, Any] = {
    "industry": F("industry"),
    "company_size": _size_band(),
    "title_seniority": _seniority(),
    "source": F("source"),
    "campaign": F("campaign"),
    "country": F("country"),
    "free_mail": _free_mail(),
    "engagement_band": _score_band("engagement", (10, 20, 40)),
    "fit_band": _score_band("fit", (0, 10, 20)),
}


POPULATION = "advisor_population"  # temporary: lead_id, won (1 or 0), reached_at
# "Event types within N days": per common event type, the leads that had one in the days before
# they first reached the stage asked for.
ACTIVITY_DAYS = 30
ACTIVITY_TYPES = 12


def _fill_population(*, period: Period, stage: str, leads: QuerySet[Lead]) -> None:
    """The leads (of the role's scope) whose last outcome in the period is known and that had
    reached `stage`, each with `won`: one pass over the period's outcome transitions into a
    temporary table that every figure of the report reads."""
    history = LeadTransition._meta.db_table
    outcomes = ", ".join(f"'{t}'" for t in OUTCOMES)
    scope = _scope(leads)
    within = f" AND t.lead_id IN ({scope[0]})" if scope else ""
    pg = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {POPULATION}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {POPULATION}{' ON COMMIT DROP' if pg else ''} AS "  # noqa: S608
            "SELECT * FROM (SELECT o.lead_id, "
            f"CASE WHEN o.transition = '{T.WIN}' THEN 1 ELSE 0 END AS won, "
            f"(SELECT MIN(r.occurred_at) FROM {history} r "
            "WHERE r.lead_id = o.lead_id AND r.to_state = %s) AS reached_at "
            "FROM (SELECT t.lead_id, t.transition, ROW_NUMBER() OVER (PARTITION BY t.lead_id "
            "ORDER BY t.occurred_at DESC, t.id DESC) AS n "
            f"FROM {history} t WHERE t.transition IN ({outcomes}) "
            f"AND t.occurred_at >= %s AND t.occurred_at < %s{within}) o "
            "WHERE o.n = 1) q WHERE q.reached_at IS NOT NULL",
            [STAGES[stage], period.start, period.end, *(scope[1] if scope else [])],
        )
        if pg:
            cursor.execute(f"ANALYZE {POPULATION}")


def _attribute_counts() -> list[tuple[str, str, int, int]]:
    """(attribute, value, leads, won) of every candidate attribute, from one read of the
    population's leads (a CTE that each attribute's GROUP BY reads)."""
    members = RawSQL(f"SELECT lead_id FROM {POPULATION}", [])  # noqa: S608, S611
    columns = {
        f"a{i}": Coalesce(expression, Value(""), output_field=CharField())
        for i, expression in enumerate(ATTRIBUTES.values())
    }
    values = (
        Lead.objects.filter(pk__in=members).order_by().annotate(**columns).values("id", *columns)
    )
    sql, params = values.query.sql_with_params()
    groups = " UNION ALL ".join(
        f"SELECT {i} AS k, v.a{i} AS value, COUNT(*), SUM(p.won) FROM v "  # noqa: S608
        f"JOIN {POPULATION} p ON p.lead_id = v.id GROUP BY v.a{i}"
        for i in range(len(ATTRIBUTES))
    )
    names = list(ATTRIBUTES)
    with connection.cursor() as cursor:
        cursor.execute(f"WITH v AS ({sql}) {groups}", params)
        return [(names[k], value, int(n), int(w or 0)) for k, value, n, w in cursor.fetchall()]


def _activity_counts() -> list[tuple[str, str, int, int]]:
    """("activity", event type, leads, won) for the event types the most population leads had
    in the `ACTIVITY_DAYS` days before they first reached the stage: one pass over their events."""
    days = ACTIVITY_DAYS
    if connection.vendor == "postgresql":
        window = (
            "e.occurred_at <= p.reached_at "
            f"AND e.occurred_at > p.reached_at - INTERVAL '{days} days'"
        )
    else:
        window = (
            "julianday(e.occurred_at) <= julianday(p.reached_at) "
            f"AND julianday(e.occurred_at) > julianday(p.reached_at) - {days}"
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.type, COUNT(*), SUM(a.won) FROM (SELECT DISTINCT p.lead_id, p.won, e.type "  # noqa: S608
            f"FROM {POPULATION} p JOIN leads_event e ON e.lead_id = p.lead_id AND {window}) a "
            "GROUP BY a.type ORDER BY COUNT(*) DESC, a.type LIMIT %s",
            [ACTIVITY_TYPES],
        )
        return [("activity", t, int(n), int(w or 0)) for t, n, w in cursor.fetchall()]


def _row(attribute: str, value: str, n: int, won: int, base: float) -> dict[str, Any]:
    rate = won / n
    low, high = wilson(won, n) or (0.0, 0.0)
    return {
        "attribute": attribute, "value": value, "count": n, "won": won,
        "win_rate": round(rate, 4), "interval": [round(low, 4), round(high, 4)],
        "lift": round(rate / base, 4) if base else None,
        # Wins above (or below) what the base rate gives this many leads.
        "gain": round(won - n * base, 2),
        "significant": not low <= base <= high,
    }  # fmt: skip


def _group(won: int, n: int) -> dict[str, Any]:
    interval = wilson(won, n)
    return {
        "count": n, "won": won, "win_rate": round(won / n, 4) if n else None,
        "interval": [round(v, 4) for v in interval] if interval else None,
    }  # fmt: skip


def newcombe(won1: int, n1: int, won2: int, n2: int) -> tuple[float, float, float] | None:
    """The difference of two proportions with its 95% interval (Newcombe's hybrid score
    method, from the two Wilson intervals)."""
    a, b = wilson(won1, n1), wilson(won2, n2)
    if a is None or b is None:
        return None
    p1, p2 = won1 / n1, won2 / n2
    d = p1 - p2
    low = d - math.sqrt((p1 - a[0]) ** 2 + (b[1] - p2) ** 2)
    high = d + math.sqrt((a[1] - p1) ** 2 + (p2 - b[0]) ** 2)
    return d, low, high


def _scope(leads: QuerySet[Lead]) -> tuple[str, list[Any]] | None:
    """The role's leads as SQL selecting their ids (None: every lead)."""
    if not leads.query.where:
        return None
    sql, params = leads.order_by().values("pk").query.sql_with_params()
    return sql, list(params)


def advisor_report(
    *, period: Period, stage: str, leads: QuerySet[Lead], definition: Definition | None
) -> dict[str, Any]:
    with transaction.atomic():
        try:
            _fill_population(period=period, stage=stage, leads=leads)
            return _report(period, stage, leads, definition)
        finally:
            if connection.vendor == "sqlite":
                with connection.cursor() as cursor:
                    cursor.execute(f"DROP TABLE IF EXISTS {POPULATION}")


def _report(
    period: Period, stage: str, leads: QuerySet[Lead], definition: Definition | None
) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), SUM(won) FROM {POPULATION}")  # noqa: S608
        n, won = (int(v or 0) for v in cursor.fetchone())
    base = won / n if n else 0.0
    counts = [*_attribute_counts(), *_activity_counts()] if n else []
    rows = [_row(a, v, c, w, base) for a, v, c, w in counts]
    rows.sort(key=lambda r: (-abs(r["gain"]), r["attribute"], r["value"]))
    criteria = definition.stage(LeadState.MQL).get("criteria", []) if definition else []
    criteria_rows = _criteria(period, leads, criteria, populated=bool(n))
    thresholds = [
        _threshold(c, criteria, period, _scope(leads))
        for c in criteria
        if c["kind"] == K.SCORE_AT_LEAST
    ]
    values = [row for c in criteria if c["kind"] == K.FIELD_IN
              for row in _field_values(c, base)] if n else []  # fmt: skip
    return {
        "stage": stage, "leads": n, "won": won, "base_rate": round(base, 4) if n else None,
        "base_interval": [round(v, 4) for v in wilson(won, n) or ()] or None,
        "definition": definition.pk if definition else None,
        "attributes": rows,
        "criteria": criteria_rows,
        "thresholds": thresholds,
        "values": values,
        "findings": _findings(rows, criteria_rows, thresholds, values),
    }  # fmt: skip


def _criteria(
    period: Period,
    leads: QuerySet[Lead],
    criteria: list[dict[str, Any]],
    *,
    populated: bool,
) -> list[dict[str, Any]]:
    """Per MQL criterion: the win rates of the leads that pass and that fail it (evaluated at
    each lead's first MQL moment, as the backtest evaluates a moment), their difference with a
    95% interval; the rejections citing it in the period, and how many of the leads rejected
    for it were won later all the same (within a year)."""
    if not criteria:
        return []
    rejections = LeadTransition.objects.filter(
        transition=T.REJECT, from_state=LeadState.MQL, lead__in=leads,
        occurred_at__gte=period.start, occurred_at__lt=period.end,
    )  # fmt: skip
    won_later = LeadTransition.objects.filter(
        lead_id=OuterRef("lead_id"), transition=T.WIN, occurred_at__gt=OuterRef("occurred_at"),
        occurred_at__lt=OuterRef("occurred_at") + timedelta(days=365),
    )  # fmt: skip
    counted = {
        r["reason"]: r
        for r in rejections.annotate(later=Exists(won_later))
        .values("reason")
        .annotate(n=Count("id"), won=Count("id", filter=Q(later=True)))
        .order_by()
    }
    split = _pass_fail(criteria) if populated else {}
    out = []
    for crit in criteria:
        r = counted.get(crit["code"], {"n": 0, "won": 0})
        interval = wilson(r["won"], r["n"])
        row: dict[str, Any] = {
            "code": crit["code"], "kind": crit["kind"], "label": crit.get("label", ""),
            "rejections": r["n"], "rejected_then_won": r["won"],
            "won_rate_rejected": round(r["won"] / r["n"], 4) if r["n"] else None,
            "interval": [round(v, 4) for v in interval] if interval else None,
            "passed": None, "failed": None, "difference": None, "predictive": None,
        }  # fmt: skip
        if crit["code"] in split:
            (won_pass, n_pass), (won_fail, n_fail) = split[crit["code"]]
            row["passed"], row["failed"] = _group(won_pass, n_pass), _group(won_fail, n_fail)
            if diff := newcombe(won_pass, n_pass, won_fail, n_fail):
                row["difference"] = [round(v, 4) for v in diff]
                row["predictive"] = not diff[1] <= 0 <= diff[2]
        out.append(row)
    return out


def _pass_fail(
    criteria: list[dict[str, Any]],
) -> dict[str, tuple[tuple[int, int], tuple[int, int]]]:
    """Per criterion that SQL can say: ((won, count) of the leads passing it, (won, count) of
    those failing it) at each lead's first MQL moment, in one pass: the engagement as of that
    moment and the activity counts are one GROUP BY over the leads' events up to it."""
    from analytics.backtest import criterion_sql

    d = Dialect.current()
    rules = active_rules(RuleKind.ENGAGEMENT)
    pop_sql = f"SELECT lead_id AS lid, won FROM {POPULATION}"  # noqa: S608
    activity = [c for c in criteria if c["kind"] == K.ACTIVITY_WITHIN]
    eng, eng_params = (
        engagement_terms(rules, d, as_of=None, as_of_sql="m.t") if rules else ("0", [])
    )
    acts, act_params = "", []
    for i, c in enumerate(activity):
        types = c["params"]["types"]
        acts += (
            f", SUM(CASE WHEN e.type IN ({', '.join(['%s'] * len(types))}) "
            f"AND {d.age_days.format('m.t')} <= %s THEN 1 ELSE 0 END) AS a{i}"
        )
        act_params += [*types, c["params"]["days"]]
    history = LeadTransition._meta.db_table
    moment = (
        f"SELECT m.lead_id, m.t, {d.round2.format(eng)} AS eng{acts} FROM ("  # noqa: S608
        f"SELECT tr.lead_id, MIN(tr.occurred_at) AS t FROM {history} tr "
        f"WHERE tr.to_state = 'mql' AND tr.lead_id IN (SELECT pp.lid FROM ({pop_sql}) pp) "
        "GROUP BY tr.lead_id) m "
        "LEFT JOIN leads_event e ON e.lead_id = m.lead_id AND e.occurred_at <= m.t "
        "GROUP BY m.lead_id, m.t"
    )
    columns = {c["code"]: f"a{i}" for i, c in enumerate(activity)}
    sums, sum_params, codes = [], [], []
    for crit in criteria:
        got = criterion_sql(crit, d, columns)
        if got is None:
            continue  # a free attribute: SQL cannot say it alike everywhere
        cond, ps, _ = got
        sums.append(
            f", SUM(CASE WHEN {cond} THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN {cond} THEN p.won ELSE 0 END)"
        )
        sum_params += [*ps, *ps]
        codes.append(crit["code"])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), SUM(p.won){''.join(sums)} FROM ({pop_sql}) p "  # noqa: S608
            f"JOIN ({moment}) x ON x.lead_id = p.lid "
            f"JOIN {Lead._meta.db_table} l ON l.id = p.lid "
            f"LEFT JOIN {LeadScore._meta.db_table} s ON s.lead_id = l.id",
            [*sum_params, *eng_params, *act_params],
        )
        n, won, *counts = cursor.fetchone()
    n, won = int(n or 0), int(won or 0)
    out = {}
    for i, code in enumerate(codes):
        n_pass, won_pass = int(counts[2 * i] or 0), int(counts[2 * i + 1] or 0)
        out[code] = ((won_pass, n_pass), (won - won_pass, n - n_pass))
    return out


def _threshold(
    crit: dict[str, Any],
    criteria: list[dict[str, Any]],
    period: Period,
    scope: tuple[str, list[Any]] | None,
) -> dict[str, Any]:
    """The threshold curve of a `score_at_least` criterion over the period (SPEC §14): per
    threshold, the MQLs the definition would have made with it (the other criteria as they
    are), the wins among them and their share of the wins at the lowest threshold, and the
    share of the answered ones that sales accepted; and the highest threshold that keeps
    `KEEP_WINS` of the wins (the fewest MQLs for them)."""
    from analytics.backtest import score_reach

    reach, params = score_reach(criteria=criteria, code=crit["code"], period=period, scope=scope)
    history = LeadTransition._meta.db_table

    def answered(names: tuple[str, ...]) -> str:
        listed = ", ".join(f"'{n}'" for n in names)
        return (
            f"SUM(CASE WHEN EXISTS (SELECT 1 FROM {history} a WHERE a.lead_id = r.lead_id "  # noqa: S608
            f"AND a.from_state = 'mql' AND a.transition IN ({listed})) THEN 1 ELSE 0 END)"
        )

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT FLOOR(r.m) AS b, COUNT(*), SUM(CASE WHEN l.state = 'won' THEN 1 ELSE 0 END), "  # noqa: S608
            f"{answered((T.ACCEPT, T.IS_ACCEPT, T.REJECT))}, {answered((T.ACCEPT, T.IS_ACCEPT))} "
            f"FROM ({reach}) r JOIN {Lead._meta.db_table} l ON l.id = r.lead_id "
            "GROUP BY FLOOR(r.m) ORDER BY 1",
            params,
        )
        buckets = [(int(b), n, int(w or 0), int(a or 0), int(c or 0))
                   for b, n, w, a, c in cursor.fetchall()]  # fmt: skip
    current = float(crit["params"]["value"])
    out: dict[str, Any] = {
        "code": crit["code"], "score": crit["params"]["score"], "current": current,
        "points": [], "suggested": None,
    }  # fmt: skip
    if not buckets:
        return out
    lo, hi = min(0, buckets[0][0]), max(buckets[-1][0] + 1, math.ceil(current))
    step = max(1, math.ceil((hi - lo) / 150))
    total_won = sum(b[2] for b in buckets if b[0] >= lo)
    for t in [*range(lo, hi + 1, step)]:
        above = [b for b in buckets if b[0] >= t]
        won, answered_n = sum(b[2] for b in above), sum(b[3] for b in above)
        out["points"].append({
            "threshold": t, "mqls": sum(b[1] for b in above), "won": won,
            "wins_kept": round(won / total_won, 4) if total_won else None,
            "sal_acceptance": round(sum(b[4] for b in above) / answered_n, 4)
            if answered_n else None,
        })  # fmt: skip
    keeping = [
        p for p in out["points"] if p["wins_kept"] is not None and p["wins_kept"] >= KEEP_WINS
    ]
    if keeping:
        best = max(keeping, key=lambda p: p["threshold"])
        at = next((p for p in out["points"] if p["threshold"] >= current), out["points"][-1])
        out["suggested"] = best["threshold"]
        # Wins the suggestion recovers (lowering) or MQLs it saves (raising), against today's.
        out["wins_recovered"] = best["won"] - at["won"]
        out["mqls_change"] = best["mqls"] - at["mqls"]
        out["at_current"] = at
    return out


def _field_values(crit: dict[str, Any], base: float) -> list[dict[str, Any]]:
    """Per value of a `field_in` criterion's field among the leads with an outcome: its win
    rate and lift, whether the criterion lists it, and the change its lift argues for: add a
    value that wins significantly more than the base rate, drop a listed one that wins
    significantly less."""
    from leads.definitions import CRITERIA_FIELDS

    field = crit["params"]["field"]
    if field.startswith("attributes.") or field not in CRITERIA_FIELDS:
        return []
    listed = {_norm(v) for v in crit["params"]["values"]}
    merged: dict[str, list[Any]] = {}
    column = connection.ops.quote_name(field)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT l.{column}, COUNT(*), SUM(p.won) FROM {POPULATION} p "  # noqa: S608
            f"JOIN {Lead._meta.db_table} l ON l.id = p.lead_id GROUP BY l.{column}"
        )
        found = cursor.fetchall()
    for raw, n, won in found:
        if raw in (None, ""):
            continue
        entry = merged.setdefault(_norm(raw), [str(raw), 0, 0])
        entry[1] += int(n)
        entry[2] += int(won or 0)
    rows = []
    for key, (value, n, won) in sorted(merged.items()):
        row = _row(field, value, n, won, base)
        row["code"], row["in_list"] = crit["code"], key in listed
        lift = row["lift"] or 0
        row["suggestion"] = (
            "add" if row["significant"] and lift > 1 and not row["in_list"]
            else "drop" if row["significant"] and lift < 1 and row["in_list"] else None
        )  # fmt: skip
        rows.append(row)
    return rows


def _findings(
    attributes: list[dict[str, Any]],
    criteria: list[dict[str, Any]],
    thresholds: list[dict[str, Any]],
    values: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """What the COO could change, ranked by the wins at stake: a value of an attribute that
    wins significantly more or less than the base rate (with the `field_in` change it argues
    for, if a criterion reads that field); a criterion (other than a threshold) whose passing
    and failing leads win alike, so it turns away wins for nothing; a threshold whose
    suggestion differs from today's."""
    by_value = {(v["attribute"], _norm(v["value"])): v for v in values if v["suggestion"]}
    out: list[dict[str, Any]] = []
    for row in attributes:
        if not row["significant"]:
            continue
        change = by_value.pop((row["attribute"], _norm(row["value"])), None)
        out.append({
            "kind": "attribute", "attribute": row["attribute"], "value": row["value"],
            "lift": row["lift"], "gain": abs(row["gain"]),
            "suggestion": {"change": change["suggestion"], "code": change["code"],
                           "value": change["value"]} if change else None,
        })  # fmt: skip
    for row in by_value.values():  # a field no candidate attribute covers
        out.append({
            "kind": "value", "attribute": row["attribute"], "value": row["value"],
            "lift": row["lift"], "gain": abs(row["gain"]),
            "suggestion": {"change": row["suggestion"], "code": row["code"], "value": row["value"]},
        })  # fmt: skip
    for row in criteria:
        if (row["kind"] != K.SCORE_AT_LEAST and row["predictive"] is False
                and row["failed"]["count"] >= MIN_FAILING):  # fmt: skip
            out.append({
                "kind": "criterion", "code": row["code"], "label": row["label"],
                "gain": row["failed"]["won"],
                "suggestion": {"change": "remove", "code": row["code"], "value": None},
            })  # fmt: skip
    for row in thresholds:
        # Only a suggestion that recovers wins or saves MQLs is worth the COO's time.
        if row["suggested"] is not None and (row["wins_recovered"] > 0 or row["mqls_change"] < 0):
            out.append({
                "kind": "threshold", "code": row["code"], "current": row["current"],
                "value": row["suggested"], "gain": max(0, row["wins_recovered"]),
                "wins_recovered": row["wins_recovered"], "mqls_change": row["mqls_change"],
                "suggestion": {"change": "threshold", "code": row["code"],
                               "value": row["suggested"]},
            })  # fmt: skip
    out.sort(key=lambda f: -f["gain"])
    return out


CHANGES = ("threshold", "add", "drop", "remove")


def apply_suggestion(
    document: dict[str, Any], *, change: str, code: str, value: Any
) -> dict[str, Any] | None:
    """A copy of `document` with one suggestion applied to its MQL criterion `code`: a new
    threshold, a value added to or dropped from a `field_in` list, or the criterion removed.
    None when the change does not fit the document (it changed since)."""
    import copy

    doc = copy.deepcopy(document)
    criteria = doc.get("stages", {}).get("mql", {}).get("criteria", [])
    crit = next((c for c in criteria if c.get("code") == code), None)
    if crit is None or change not in CHANGES:
        return None
    if change == "remove":
        criteria.remove(crit)
    elif change == "threshold" and crit["kind"] == K.SCORE_AT_LEAST:
        number = float(value)
        crit["params"]["value"] = int(number) if number.is_integer() else number
    elif change in ("add", "drop") and crit["kind"] == K.FIELD_IN:
        listed = crit["params"]["values"]
        if change == "add" and _norm(value) not in {_norm(v) for v in listed}:
            listed.append(str(value))
        elif change == "drop":
            crit["params"]["values"] = [v for v in listed if _norm(v) != _norm(value)]
    else:
        return None
    return doc


# Stored reports. At a million leads a report takes tens of seconds (the threshold curve replays
# the period's moments), so the page reads a stored one: computed on the first request for its
# stage, period, scope and published version, and recomputed each night for the default period
# of every scope asked for lately (`advisor_nightly`).


def scope_key(leads: QuerySet[Lead]) -> str:
    """The key of a role scope: `all`, or a digest of the SQL (and its parameters) selecting
    the scope's leads. Two callers share a stored report exactly when they see the same leads."""
    scope = _scope(leads)
    if scope is None:
        return "all"
    sql, params = scope
    text = json.dumps([sql, [str(p) for p in params]])
    return hashlib.sha256(text.encode()).hexdigest()


def advisor_figures(
    *,
    period: Period,
    stage: str,
    user: Caller,
    definition: Definition | None,
    fresh: bool = False,
) -> dict[str, Any]:
    """The user's advisor report with its `as_of`: the stored one while it is younger than
    `ADVISOR_SNAPSHOT_HOURS` (unless `fresh`), else computed now and stored."""
    from analytics.selectors import report_leads

    leads = report_leads(user)
    key = _key(period, stage, leads, definition)
    asked_by = _actor(user)
    if not fresh and (stored := _stored(key, asked_by=asked_by)):
        return stored
    return _compute_and_store(key, period, stage, leads, definition, asked_by=asked_by)


def advisor_page_figures(
    *, period: Period, stage: str, user: Caller, definition: Definition | None, query: str = ""
) -> tuple[dict[str, Any] | None, Job | None]:
    """The page's report, and the job computing it if the request does not: the stored report
    while it is young; else, up to `ADVISOR_INLINE_LEADS` leads in all, the report computed
    now; else the last stored one (or None) with the job computing it (the one
    already at it, or one started now). A large scope's report is never computed in the
    request: it could outlast the server's timeout."""
    from analytics.selectors import report_leads

    leads = report_leads(user)
    key = _key(period, stage, leads, definition)
    asked_by = _actor(user)
    if stored := _stored(key, asked_by=asked_by):
        return stored, None
    # Each report reads the whole period's events and outcomes, whatever the scope: the size of
    # the data, not of the scope, says whether it fits in a request.
    if Lead.objects.count() <= settings.ADVISOR_INLINE_LEADS:
        return _compute_and_store(key, period, stage, leads, definition, asked_by=asked_by), None
    job = advisor_pending(key) or advisor_start(
        period=period, stages=[stage], user=asked_by, definition=definition, query=query
    )
    return _stored(key, asked_by=asked_by, any_age=True), job


def _stored(
    key: dict[str, Any], *, asked_by: Actor, any_age: bool = False
) -> dict[str, Any] | None:
    """The stored report under `key` with its `as_of`, if it is young enough (or `any_age`);
    marks it asked for."""
    hours = settings.ADVISOR_SNAPSHOT_HOURS
    if hours <= 0 and not any_age:
        return None
    now = timezone.now()
    rows = AdvisorSnapshot.objects.filter(**key)
    if not any_age:
        rows = rows.filter(computed_at__gt=now - timedelta(hours=hours))
    stored = rows.values("pk", "report", "computed_at").first()
    if stored is None:
        return None
    AdvisorSnapshot.objects.filter(pk=stored["pk"]).update(asked_at=now, asked_by=asked_by)
    return {**stored["report"], "as_of": stored["computed_at"]}


def advisor_start(
    *,
    period: Period,
    stages: list[str],
    user: Actor,
    definition: Definition | None,
    query: str = "",
) -> Job:
    """Compute (and store) the reports of `stages` for the user's scope (every lead's without a
    user) in the background: a job of kind `advisor`. `query` is the page's, to go back to."""
    from analytics.selectors import report_leads
    from leadflow.jobs import job_start

    leads = report_leads(user) if user is not None else Lead.objects.all()
    return job_start(
        kind="advisor",
        params={
            "from": period.start.isoformat(), "to": period.end.isoformat(), "stages": stages,
            "user": user.pk if user is not None else None, "scope": scope_key(leads),
            "definition": definition.pk if definition else 0, "query": query,
        },
        actor=user,
    )  # fmt: skip


def advisor_pending(key: dict[str, Any]) -> Job | None:
    """An unfinished `advisor` job computing the report under `key`."""
    from leadflow.models import Job

    unfinished = Job.objects.filter(
        kind="advisor", status__in=(Job.Status.QUEUED, Job.Status.RUNNING),
        params__scope=key["scope"], params__definition=key["definition_id"],
        **{"params__from": key["period_start"].isoformat(),
           "params__to": key["period_end"].isoformat()},
    ).order_by("-pk")  # fmt: skip
    return next((job for job in unfinished if key["stage"] in job.params["stages"]), None)


def advisor_job_work(params: dict[str, Any], report: Callable[[float], None]) -> dict[str, Any]:
    """An `advisor` job: each stage's report for the scope, computed and stored. The published
    version is the one of the job's start (a version published since makes its own job)."""
    from datetime import datetime

    from analytics.periods import Period
    from analytics.selectors import report_leads

    period = Period(datetime.fromisoformat(params["from"]), datetime.fromisoformat(params["to"]))
    definition = Definition.objects.filter(pk=params["definition"]).first()
    user = get_user_model().objects.filter(pk=params["user"]).first() if params["user"] else None
    leads = report_leads(user) if user is not None else Lead.objects.all()
    out = {}
    for n, stage in enumerate(params["stages"], 1):
        key = _key(period, stage, leads, definition)
        out[stage] = _compute_and_store(key, period, stage, leads, definition, asked_by=user)[
            "leads"
        ]
        report(n / len(params["stages"]))
    return {"leads": out}


def _actor(user: Caller) -> Actor:
    """The signed-in user (a stored report records who asked), or None."""
    return user if user.is_authenticated else None


def _key(
    period: Period, stage: str, leads: QuerySet[Lead], definition: Definition | None
) -> dict[str, Any]:
    return {
        "stage": stage, "period_start": period.start, "period_end": period.end,
        "scope": scope_key(leads), "definition_id": definition.pk if definition else 0,
    }  # fmt: skip


def _compute_and_store(
    key: dict[str, Any],
    period: Period,
    stage: str,
    leads: QuerySet[Lead],
    definition: Definition | None,
    *,
    asked_by: Actor,
    asked: bool = True,
) -> dict[str, Any]:
    """Compute the report and store it under `key`, as of the moment the computation began.
    Unless `asked` (the nightly pass), a stored report keeps who asked for it last and when."""
    started, clock = timezone.now(), time.perf_counter()
    report = advisor_report(period=period, stage=stage, leads=leads, definition=definition)
    seconds = time.perf_counter() - clock
    # Returned as a later read returns it: as JSON (tuples as lists, moments as text).
    stored = json.loads(json.dumps(report, cls=DjangoJSONEncoder))
    figures = {"report": stored, "computed_at": started, "seconds": seconds}
    ask = {"asked_at": started, "asked_by": asked_by}
    try:
        with transaction.atomic():
            AdvisorSnapshot.objects.update_or_create(
                **key, defaults=figures | ask if asked else figures, create_defaults=figures | ask
            )
    except IntegrityError:
        pass  # computed at the same time by another request, which stored the same figures
    return {**stored, "as_of": started}


def advisor_nightly() -> int:
    """Recompute the default period's report, for both stages, for every lead ("all") and for
    each scope asked for in the last `ADVISOR_SNAPSHOT_KEEP_DAYS` days (as the user who last
    asked for it sees it), for the published version; drop the reports nobody asked for since.
    Returns the reports computed."""
    from analytics.periods import period_from
    from analytics.selectors import report_leads
    from leads.selectors import definition_published

    now = timezone.now()
    since = now - timedelta(days=settings.ADVISOR_SNAPSHOT_KEEP_DAYS)
    AdvisorSnapshot.objects.filter(asked_at__lt=since, computed_at__lt=since).delete()
    period, definition = period_from({}), definition_published()
    asked = AdvisorSnapshot.objects.filter(asked_at__gte=since, asked_by__isnull=False)
    askers = (
        get_user_model()
        .objects.filter(pk__in=asked.exclude(scope="all").values("asked_by"))
        .order_by("pk")
    )
    scopes: dict[str, tuple[QuerySet[Lead], Actor]] = {"all": (Lead.objects.all(), None)}
    for asker in askers:
        leads = report_leads(asker)
        scopes.setdefault(scope_key(leads), (leads, asker))
    done = 0
    for stage in STAGES:
        for leads, user in scopes.values():
            key = _key(period, stage, leads, definition)
            _compute_and_store(key, period, stage, leads, definition, asked_by=user, asked=False)
            done += 1
    return done


def after_publish(definition: Definition) -> None:
    """Every lead's reports of the default period for the version just published, computed in
    the background, so the first visit after publishing reads them."""
    from analytics.periods import period_from

    advisor_start(period=period_from({}), stages=list(STAGES), user=None, definition=definition)
