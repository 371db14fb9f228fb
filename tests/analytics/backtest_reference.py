"""The backtest as it was before the set-based rewrite, kept as the oracle the new one is compared
with (`test_reconciliation.py`). One change: the engagement is rounded to hundredths, as the live
score is, so a decayed event exactly at a threshold passes it in both; and the published versions
are listed once each.

Original docstring: replay the recorded events of a period against a draft definition.

For each lead, the first moment in the period at which it would have met the draft's MQL
criteria. The candidate moments are the lead's creation and each of its events in the period;
the engagement score as of each (decayed to that moment, with today's scoring rules) and the
activity counts come from one set-based self-join of the events. The remaining criteria are
checked in a stream over those rows, a batch of leads at a time, so memory stays flat. Lead
fields are not versioned: field criteria use today's values (a documented approximation).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from django.db import connection
from django.utils import timezone

from analytics.periods import Period
from leads.choices import CriterionKind, LeadState, Source
from leads.definitions import evaluate_stage
from leads.models import Definition, Lead, LeadTransition
from scoring.choices import RuleKind
from scoring.engine import Dialect, active_rules, engagement_terms

LIST_LIMIT = 500
BATCH = 500


def _candidates_sql(
    criteria: list[dict[str, Any]], period: Period
) -> tuple[str, list[Any], list[str]]:
    d = Dialect.current()
    rules = active_rules(RuleKind.ENGAGEMENT)
    eng, eng_params = (
        engagement_terms(rules, d, as_of=None, as_of_sql="c.occurred_at") if rules else ("0", [])
    )
    activity: list[tuple[str, list[Any], dict[str, Any]]] = []  # (SQL, params, criterion)
    for crit in criteria:
        if crit["kind"] == CriterionKind.ACTIVITY_WITHIN:
            types = crit["params"]["types"]
            expr = (
                f"SUM(CASE WHEN e.type IN ({', '.join(['%s'] * len(types))}) "
                f"AND {d.age_days.format('c.occurred_at')} <= %s THEN 1 ELSE 0 END)"
            )
            activity.append((expr, [*types, crit["params"]["days"]], crit))
    # Criteria on engagement and activity are pushed into SQL (HAVING), so only the moments that
    # already pass them reach the Python check of the remaining (field) criteria.
    having: list[str] = []
    having_params: list[Any] = []
    for crit in criteria:
        if crit["kind"] == CriterionKind.SCORE_AT_LEAST and crit["params"]["score"] == "engagement":
            having.append(f"{d.round2.format(eng)} >= %s")
            having_params += [*eng_params, crit["params"]["value"]]
    for expr, ps, crit in activity:
        having.append(f"{expr} >= %s")
        having_params += [*ps, crit["params"].get("count", 1)]
    cols = "".join(f", {expr} AS a{i}" for i, (expr, _, _) in enumerate(activity))
    zeros = "".join(f", 0 AS a{i}" for i in range(len(activity)))
    creation_ok = "1 = 0" if having else "1 = 1"  # a new lead has no engagement or activity
    sql = (
        f"SELECT c.lead_id, c.occurred_at AS t, {d.round2.format(eng)} AS eng{cols} "  # noqa: S608
        "FROM leads_event c JOIN leads_event e "
        "ON e.lead_id = c.lead_id AND e.occurred_at <= c.occurred_at "
        "WHERE c.occurred_at >= %s AND c.occurred_at < %s GROUP BY c.lead_id, c.id, c.occurred_at "
        f"{'HAVING ' + ' AND '.join(having) if having else ''} "
        f"UNION ALL SELECT l.id, l.created_at, 0{zeros} FROM leads_lead l "
        f"WHERE l.created_at >= %s AND l.created_at < %s AND {creation_ok} ORDER BY 1, 2"
    )
    params = [
        *eng_params, *[p for _, ps, _ in activity for p in ps], period.start, period.end,
        *having_params, period.start, period.end,
    ]  # fmt: skip
    return sql, params, [crit["code"] for _, _, crit in activity]


def _stream(sql: str, params: list[Any]) -> Iterator[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(5000):
            yield from rows


def _first_passing(
    definition: Definition, period: Period, report: Callable[[float], None] | None
) -> dict[int, datetime]:
    criteria = definition.stage(LeadState.MQL).get("criteria", [])
    sql, params, keys = _candidates_sql(criteria, period)
    total = Lead.objects.count() or 1
    found: dict[int, datetime] = {}
    pending: list[tuple[Any, ...]] = []

    def flush() -> None:
        leads = Lead.objects.in_bulk({r[0] for r in pending})
        for lead_id, t, eng, *counts in pending:
            if lead_id in found or lead_id not in leads:
                continue
            lead = leads[lead_id]
            if lead.source in (Source.SALES_GENERATED, Source.INSIDE_SALES_GENERATED):
                continue  # a rep sourced it and claimed it: it never goes through MQL
            at = t if isinstance(t, datetime) else datetime.fromisoformat(str(t))
            if timezone.is_naive(at):  # SQLite hands raw timestamps back as naive UTC text
                at = at.replace(tzinfo=UTC)
            view = SimpleNamespace(
                **{f.attname: getattr(lead, f.attname) for f in Lead._meta.concrete_fields},
                fit_score=lead.fit_score,
                engagement_score=eng or 0,
            )
            by_code = dict(zip(keys, counts, strict=True))
            rows = evaluate_stage(
                view,
                definition.document,
                LeadState.MQL,
                now=at,
                activity=_counter(criteria, by_code),
            )
            if rows and all(r["passed"] for r in rows):
                found[lead_id] = at
        pending.clear()

    seen = 0
    last = None
    for row in _stream(sql, params):
        if row[0] != last:
            seen += 1
            last = row[0]
            if len({r[0] for r in pending}) >= BATCH:
                flush()
                if report:
                    report(min(0.99, seen / total))
        pending.append(row)
    flush()
    return found


def _counter(
    criteria: list[dict[str, Any]], counts: dict[str, int]
) -> Callable[[list[str], datetime], int]:
    by_types = {
        tuple(c["params"]["types"]): counts.get(c["code"], 0)
        for c in criteria
        if c["kind"] == CriterionKind.ACTIVITY_WITHIN
    }

    def count(types: list[str], since: datetime) -> int:
        return int(by_types.get(tuple(types), 0) or 0)

    return count


def _reached(ids: set[int], state: str) -> set[int]:
    return set(
        LeadTransition.objects.filter(lead_id__in=ids, to_state=state).values_list(
            "lead_id", flat=True
        )
    )


def _tqls_passing(definition: Definition, ids: set[int]) -> int | None:
    """With the IS stages (SPEC §13): of the leads that inside sales really worked (reached
    `tal`), how many meet the draft's TQL criteria with what IS heard (today's fields and
    activities, the approximation the field criteria make)."""
    from leads.selectors import lead_evaluate

    if not definition.has_inside_sales:
        return None
    now, passing = timezone.now(), 0
    worked = sorted(_reached(ids, LeadState.TAL))
    for start in range(0, len(worked), BATCH):
        for lead in Lead.objects.filter(pk__in=worked[start : start + BATCH]):
            rows = lead_evaluate(lead=lead, stage=LeadState.TQL, definition=definition, now=now)
            passing += bool(rows) and all(r["passed"] for r in rows)
    return passing


def _outcomes(ids: set[int]) -> dict[str, Any]:
    sql_ids = _reached(ids, LeadState.SQL)
    won = dict(Lead.objects.filter(pk__in=ids, state=LeadState.WON).values_list("pk", "won_amount"))
    return {
        "mqls": len(ids),
        "tqls": len(_reached(ids, LeadState.TQL)),
        "sqls": len(sql_ids),
        "won": len(won),
        "won_amount": float(sum(v or 0 for v in won.values())),
    }


def backtest(
    *, definition: Definition, period: Period, report: Callable[[float], None] | None = None
) -> dict[str, Any]:
    would = _first_passing(definition, period, report)
    actual = set(
        LeadTransition.objects.filter(
            to_state=LeadState.MQL, occurred_at__gte=period.start, occurred_at__lt=period.end
        )
        .values_list("lead_id", flat=True)
        .distinct()
    )
    published = (
        LeadTransition.objects.filter(
            to_state=LeadState.MQL, occurred_at__gte=period.start, occurred_at__lt=period.end
        )
        .order_by()  # (fixed here too: the model's ordering made DISTINCT repeat each version)
        .values_list("definition_id", flat=True)
        .distinct()
    )
    entering, leaving = sorted(set(would) - actual), sorted(actual - set(would))
    return {
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat()},
        "draft": {
            "definition": definition.pk,
            **_outcomes(set(would)),
            "tqls_passing": _tqls_passing(definition, set(would)),
        },
        "published": {"definitions": sorted(p for p in published if p), **_outcomes(actual)},
        "entering_count": len(entering),
        "leaving_count": len(leaving),
        "entering": entering[:LIST_LIMIT],
        "leaving": leaving[:LIST_LIMIT],
        "first_qualified_at": {
            str(k): v.isoformat() for k, v in sorted(would.items())[:LIST_LIMIT]
        },
    }
