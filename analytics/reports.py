"""Handoff SLA, attribution and criteria reports (read-only; from history, handoffs, events)."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal
from statistics import quantiles
from typing import Any

from django.db.models import Count, Min, Q, QuerySet, Sum
from django.db.models.fields.json import KT

from analytics.periods import Period
from handoff.choices import HandoffStatus
from handoff.models import Handoff
from leads.choices import LeadState, TransitionName
from leads.models import Definition, Event, Lead, LeadTransition


def _pct(values: list[float], q: float) -> float | None:
    """The exact q-quantile (like `percentile_cont`): handoff figures are small enough."""
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 2)
    return round(quantiles(sorted(values), n=100, method="inclusive")[int(q * 100) - 1], 2)


def handoff_report(*, period: Period, handoffs: QuerySet[Handoff]) -> dict[str, Any]:
    """Per team and per rep: open, answered within SLA, breached, response time, accept and
    reject rates, rejections by criterion code."""
    qs = handoffs.filter(opened_at__gte=period.start, opened_at__lt=period.end)
    counts = {
        "total": Count("id"),
        "open": Count("id", filter=Q(status=HandoffStatus.OPEN)),
        "answered_within_sla": Count(
            "id", filter=Q(answered_at__isnull=False, breached_at__isnull=True)
        ),
        "breached": Count("id", filter=Q(breached_at__isnull=False)),
        "accepted": Count("id", filter=Q(status=HandoffStatus.ACCEPTED)),
        "rejected": Count("id", filter=Q(status=HandoffStatus.REJECTED)),
    }
    out: dict[str, Any] = {}
    for level, keys in (("teams", ["team_id"]), ("reps", ["team_id", "assignee_id"])):
        rows = list(qs.values(*keys).annotate(**counts).order_by(*keys))
        hours: dict[tuple[Any, ...], list[float]] = defaultdict(list)
        for *key, opened, answered in qs.filter(answered_at__isnull=False).values_list(
            *keys, "opened_at", "answered_at"
        ):
            hours[tuple(key)].append((answered - opened).total_seconds() / 3600)
        reasons: dict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
        for *key, reason, n in (
            qs.filter(status=HandoffStatus.REJECTED)
            .values_list(*keys, "reason")
            .annotate(n=Count("id"))
        ):
            reasons[tuple(key)][reason] = n
        for row in rows:
            key = tuple(row[k] for k in keys)
            answered = row["accepted"] + row["rejected"]
            row["median_response_hours"] = _pct(hours[key], 0.5)
            row["accept_rate"] = round(row["accepted"] / answered, 4) if answered else None
            row["reject_rate"] = round(row["rejected"] / answered, 4) if answered else None
            row["rejections_by_criterion"] = dict(sorted(reasons[key].items()))
            row["team"], row["rep"] = row.pop("team_id"), row.pop("assignee_id", None)
        out[level] = rows
    return out


def attribution_report(*, period: Period, leads: QuerySet[Lead]) -> dict[str, Any]:
    """Per source and campaign of the leads created in the period: leads, MQLs, SQLs, won count
    and amount; first touch (the lead's source and campaign at intake) and last touch (the
    campaign of the last event before the lead first became an MQL, when an event names one)."""
    base = leads.filter(created_at__gte=period.start, created_at__lt=period.end)
    # Each lead's first MQL, from one grouped pass over the history (not a subquery per lead).
    mql_at = dict(
        LeadTransition.objects.filter(to_state=LeadState.MQL, lead__in=base.values("pk"))
        .values("lead_id")
        .annotate(first=Min("occurred_at"))
        .values_list("lead_id", "first")
    )
    with_mql = list(mql_at)
    touches: dict[int, str] = {}
    campaign_events = (
        Event.objects.filter(lead__in=with_mql, properties__has_key="utm_campaign")
        .annotate(c=KT("properties__utm_campaign"))
        .order_by("lead_id", "occurred_at", "id")
        .values_list("lead_id", "occurred_at", "c")
    )
    for lead_id, when, campaign in campaign_events.iterator(chunk_size=5000):
        if campaign and when <= mql_at[lead_id]:
            touches[lead_id] = campaign  # the last one before the first MQL wins
    reached = {
        stage: set(
            LeadTransition.objects.filter(to_state=stage, lead__in=base.values("pk"))
            .values_list("lead_id", flat=True)
            .distinct()
        )
        for stage in (LeadState.SQL, LeadState.WON)
    }
    first: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"leads": 0, "mqls": 0, "sqls": 0, "won": 0, "won_amount": Decimal(0)}
    )
    last: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"mqls": 0, "won": 0, "won_amount": Decimal(0)}
    )
    for pk, source, campaign, amount in base.values_list(
        "pk", "source", "campaign", "won_amount"
    ).iterator(chunk_size=5000):
        first_at = mql_at.get(pk)
        touch = touches.get(pk)
        row = first[(source, campaign)]
        won = pk in reached[LeadState.WON]
        row["leads"] += 1
        row["mqls"] += first_at is not None
        row["sqls"] += pk in reached[LeadState.SQL]
        row["won"] += won
        row["won_amount"] += amount or 0 if won else 0
        if first_at is not None and touch:
            lt = last[touch]
            lt["mqls"] += 1
            lt["won"] += won
            lt["won_amount"] += amount or 0 if won else 0
    return {
        "first_touch": [{"source": s, "campaign": c, **v} for (s, c), v in sorted(first.items())],
        "last_touch": [{"campaign": c, **v} for c, v in sorted(last.items())],
    }


def revenue_report(
    *, period: Period, leads: QuerySet[Lead], definition_id: int | None = None
) -> dict[str, Any]:
    """Won deals counted on the day they were won (the `win` transition), under the definition
    version that was published then when one is asked for, per first-touch source and campaign.
    The same wins as the funnel's `won` entries, so the totals agree with its Won figure."""
    wins = LeadTransition.objects.filter(
        transition=TransitionName.WIN,
        occurred_at__gte=period.start,
        occurred_at__lt=period.end,
    )
    wins = scoped(wins, leads)
    if definition_id is not None:
        wins = wins.filter(definition_id=definition_id)
    figures = {"won": Count("id"), "amount": Sum("amount")}

    def rows(*keys: str) -> list[dict[str, Any]]:
        out = []
        for row in wins.values(*keys).annotate(**figures).order_by(*keys):
            out.append({
                **{k.removeprefix("lead__"): row[k] for k in keys},
                "won": row["won"], "amount": row["amount"] or Decimal(0),
            })  # fmt: skip
        return out

    total = wins.aggregate(**figures)
    return {
        "won": total["won"],
        "amount": total["amount"] or Decimal(0),
        "by_source": rows("lead__source"),
        "by_campaign": rows("lead__source", "lead__campaign"),
    }


def scoped(rows: QuerySet[Any], leads: QuerySet[Lead]) -> QuerySet[Any]:
    """Rows of the leads in a role's figures; every row when the role sees all (no subquery)."""
    return rows if not leads.query.where else rows.filter(lead__in=leads.values("pk"))


def _criteria_counts(definition: Definition, leads: QuerySet[Lead]) -> list[tuple[Any, ...]]:
    """(code, passed, leads, won leads) over the stored evaluations of the qualifications under
    the definition: one grouped pass over the JSON arrays, in the database."""
    from django.db import connection

    rows = scoped(
        LeadTransition.objects.filter(transition=TransitionName.QUALIFY_MQL, definition=definition),
        leads,
    ).values("id")
    inner, params = rows.query.sql_with_params()
    if connection.vendor == "postgresql":
        items = "jsonb_array_elements(t.evaluation) AS e"
        code, passed = "e->>'code'", "(e->>'passed')::boolean"
    else:
        items = "json_each(t.evaluation) AS e"
        code, passed = "json_extract(e.value, '$.code')", "json_extract(e.value, '$.passed')"
    sql = (
        f"SELECT {code}, {passed}, COUNT(DISTINCT t.lead_id), "  # noqa: S608 - no user input
        "COUNT(DISTINCT CASE WHEN l.state = 'won' THEN t.lead_id END) "
        f"FROM leads_leadtransition t JOIN leads_lead l ON l.id = t.lead_id, {items} "
        f"WHERE t.id IN ({inner}) GROUP BY 1, 2"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def criteria_report(*, definition: Definition, leads: QuerySet[Lead]) -> dict[str, Any]:
    """For each MQL criterion of the definition, what says whether it is the right one: how often
    sales rejected citing it and how those leads ended (won after all?) beside the won rate of
    the MQLs sales accepted, and what share of the won leads passed it when they qualified
    (an override that let a failing lead through counts as failed). Among MQLs every criterion
    passed by construction, so "MQLs that passed" alone says nothing."""
    codes = [c["code"] for c in definition.stage(LeadState.MQL).get("criteria", [])]
    counts: dict[tuple[str, bool], tuple[int, int]] = {
        (code, bool(passed)): (n, won)
        for code, passed, n, won in _criteria_counts(definition, leads)
    }
    qualified = scoped(LeadTransition.objects.filter(
        transition=TransitionName.QUALIFY_MQL, definition=definition), leads)  # fmt: skip
    won_qualified = qualified.filter(lead__state=LeadState.WON).values("lead_id").distinct().count()
    answers = scoped(LeadTransition.objects.filter(
        transition__in=[TransitionName.ACCEPT, TransitionName.REJECT], definition=definition,
    ), leads)  # fmt: skip
    by_answer = {
        (row["transition"], row["reason"]): row
        for row in answers.values("transition", "reason").annotate(
            n=Count("id"), leads=Count("lead_id", distinct=True),
            won=Count("lead_id", distinct=True, filter=Q(lead__state=LeadState.WON)),
        )
    }  # fmt: skip
    accepted = answers.filter(transition=TransitionName.ACCEPT)
    accepted_n = accepted.values("lead_id").distinct().count()
    accepted_won = accepted.filter(lead__state=LeadState.WON).values("lead_id").distinct().count()

    def rate(won: int, n: int) -> float | None:
        return round(won / n, 4) if n else None

    out = []
    for c in codes:
        passed_n, passed_won = counts.get((c, True), (0, 0))
        failed_n, failed_won = counts.get((c, False), (0, 0))
        rejected = by_answer.get((TransitionName.REJECT, c))
        out.append({
            "code": c, "mqls_passed": passed_n, "mqls_failed": failed_n,
            "rejections": rejected["n"] if rejected else 0,
            "won_rate_rejected": rate(rejected["won"], rejected["leads"]) if rejected else None,
            "won_rate_passed": rate(passed_won, passed_n),
            "won_rate_failed": rate(failed_won, failed_n),
            "won_passed_share": rate(passed_won, won_qualified),
        })  # fmt: skip
    return {
        "definition": definition.pk,
        "accepted": accepted_n,
        "won_rate_accepted": rate(accepted_won, accepted_n),
        "won_qualified": won_qualified,
        "criteria": out,
    }


def recycling_report(*, period: Period, leads: QuerySet[Lead]) -> dict[str, Any]:
    """What went back to marketing in the period (by the transition and the reason that sent
    it), how many recycled leads came back as MQLs, and how many of the leads recycled in the
    period went on to be won."""
    moves = scoped(
        LeadTransition.objects.filter(occurred_at__gte=period.start, occurred_at__lt=period.end),
        leads,
    )
    recycled = moves.filter(to_state=LeadState.RECYCLED)
    by_transition = dict(
        recycled.values_list("transition").annotate(n=Count("id")).order_by("transition")
    )
    by_reason = [
        {"reason": reason or "", "count": n}
        for reason, n in recycled.values_list("reason")
        .annotate(n=Count("id"))
        .order_by("-n", "reason")[:20]
    ]
    recycled_leads = recycled.values("lead_id")
    came_back = LeadTransition.objects.filter(
        lead__in=recycled_leads, from_state=LeadState.RECYCLED, to_state=LeadState.MQL
    )
    return {
        "recycled": sum(by_transition.values()),
        "by_transition": by_transition,
        "by_reason": by_reason,
        "reentries": moves.filter(from_state=LeadState.RECYCLED, to_state=LeadState.MQL).count(),
        "recycled_leads": recycled_leads.distinct().count(),
        "came_back": came_back.values("lead_id").distinct().count(),
        "eventually_won": leads.filter(pk__in=recycled_leads, state=LeadState.WON).count(),
    }
