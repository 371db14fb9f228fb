"""Handoff SLA, attribution and criteria reports (read-only; from history, handoffs, events)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.fields.json import KT

from analytics import figures
from analytics.periods import Period
from handoff.choices import ANSWERED_STAGES, HandoffStatus
from handoff.models import Handoff
from leads.choices import LeadState, TransitionName
from leads.durations import bucket_of, percentile
from leads.models import Definition, Event, Lead, LeadTransition, StageEntry

_H_NAMES = {
    "h.total": "total", "h.open": "open", "h.within": "answered_within_sla",
    "h.breached": "breached", "h.accepted": "accepted", "h.rejected": "rejected",
}  # fmt: skip
H_FIGURES = [*_H_NAMES, "h.response"]


@dataclass
class _Team:
    """One team's or rep's handoff figures while they are added up."""

    counts: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    stays: Counter[int] = field(default_factory=Counter)  # response time bucket -> handoffs


def _none_last(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is None, v or 0) for v in key)


def handoff_report(
    *, period: Period, handoffs: QuerySet[Handoff], rolled: bool | None = None
) -> dict[str, Any]:
    """Per team and per rep, of the handoffs opened in the period: open, answered within SLA,
    breached, accepted and rejected, the median response time (from 5% buckets, like the
    funnel's durations in `leads.durations`), accept and reject rates, rejections by criterion.

    From the daily figure rollups when the period is whole days and every handoff counts
    (`rolled`), else from the handoffs themselves; the two agree (the reconciliation suite)."""
    days = figures.whole_days(period)
    if rolled is None:
        rolled = figures.enabled() and days is not None and not handoffs.query.where
    acc: dict[int, dict[tuple[Any, ...], _Team]] = {1: defaultdict(_Team), 2: defaultdict(_Team)}
    if rolled and days is not None:
        for row in figures.figure_rows(H_FIGURES, days):
            for width in (1, 2):
                t = acc[width][(row.team_id or None, row.rep_id or None)[:width]]
                if row.figure == "h.response":
                    t.stays[int(row.key)] += row.n
                    continue
                t.counts[_H_NAMES[row.figure]] += row.n
                if row.figure == "h.rejected":
                    t.reasons[row.key] += row.n
    else:
        _handoffs_raw(period, handoffs, acc)
    out: dict[str, Any] = {}
    for level, width in (("teams", 1), ("reps", 2)):
        rows = []
        for key in sorted(acc[width], key=_none_last):
            t = acc[width][key]
            if not t.counts["total"]:
                continue  # a re-assignment moved every handoff of the day elsewhere
            c = t.counts
            answered = c["accepted"] + c["rejected"]
            seconds = percentile(t.stays, 0.5, figures.RESPONSE_RATIO)
            rows.append({
                "total": c["total"], "open": c["open"],
                "answered_within_sla": c["answered_within_sla"], "breached": c["breached"],
                "accepted": c["accepted"], "rejected": c["rejected"],
                "median_response_hours": None if seconds is None else round(seconds / 3600, 2),
                "accept_rate": round(c["accepted"] / answered, 4) if answered else None,
                "reject_rate": round(c["rejected"] / answered, 4) if answered else None,
                "rejections_by_criterion": {k: n for k, n in sorted(t.reasons.items()) if n},
                "team": key[0], "rep": key[1] if width == 2 else None,
            })  # fmt: skip
        out[level] = rows
    return out


def _handoffs_raw(
    period: Period, handoffs: QuerySet[Handoff], acc: dict[int, dict[tuple[Any, ...], _Team]]
) -> None:
    qs = handoffs.filter(
        opened_at__gte=period.start, opened_at__lt=period.end, stage__in=ANSWERED_STAGES
    )
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
    for width, keys in ((1, ["team_id"]), (2, ["team_id", "assignee_id"])):
        for row in qs.values(*keys).annotate(**counts).order_by(*keys):
            acc[width][tuple(row[k] for k in keys)].counts.update(
                {name: row[name] for name in counts}
            )
        for *key, opened, answered in qs.filter(answered_at__isnull=False).values_list(
            *keys, "opened_at", "answered_at"
        ):
            seconds = (answered - opened).total_seconds()
            acc[width][tuple(key)].stays[bucket_of(seconds, figures.RESPONSE_RATIO)] += 1
        for *key, reason, n in (
            qs.filter(status=HandoffStatus.REJECTED)
            .values_list(*keys, "reason")
            .annotate(n=Count("id"))
            .order_by()
        ):
            acc[width][tuple(key)].reasons[reason] += n


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
    *,
    period: Period,
    leads: QuerySet[Lead],
    definition_id: int | None = None,
    rolled: bool | None = None,
) -> dict[str, Any]:
    """Won deals counted on the day they were won (the `win` transition), under the definition
    version that was published then when one is asked for, per source and campaign as the
    lead's won stage entry copied them (its first touch at the time of the win, like the
    funnel's). The same wins as the funnel's `won` entries, so the totals agree with its Won
    figure. From the figure rollups for whole days when every lead counts."""
    days = figures.whole_days(period)
    if rolled is None:
        rolled = figures.enabled() and days is not None and not leads.query.where
    won: Counter[tuple[str, str]] = Counter()
    amounts: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    if rolled and days is not None:
        for row in figures.figure_rows(["w.won"], days, definition_id=definition_id):
            won[(row.key, row.key2)] += row.n
            amounts[(row.key, row.key2)] += row.amount
    else:
        wins = scoped(LeadTransition.objects.filter(
            transition=TransitionName.WIN, occurred_at__gte=period.start,
            occurred_at__lt=period.end,
        ), leads)  # fmt: skip
        if definition_id is not None:
            wins = wins.filter(definition_id=definition_id)
        entry = StageEntry.objects.filter(
            lead_id=OuterRef("lead_id"), stage=LeadState.WON, entered_at=OuterRef("occurred_at")
        )
        for source, campaign, n, amount in (
            wins.annotate(
                source=Subquery(entry.values("source")[:1]),
                campaign=Subquery(entry.values("campaign")[:1]),
            )
            .values_list("source", "campaign")
            .annotate(n=Count("id"), amount=Sum("amount"))
            .order_by()
        ):
            won[(source, campaign)] += n
            amounts[(source, campaign)] += amount or Decimal(0)

    def rows(width: int) -> list[dict[str, Any]]:
        n: Counter[tuple[str, ...]] = Counter()
        total: dict[tuple[str, ...], Decimal] = defaultdict(Decimal)
        for key, count in won.items():
            n[key[:width]] += count
            total[key[:width]] += amounts[key]
        return [
            {**dict(zip(("source", "campaign"), key, strict=False)), "won": n[key],
             "amount": total[key]}
            for key in sorted(n) if n[key]
        ]  # fmt: skip

    return {
        "won": sum(won.values()),
        "amount": sum(amounts.values(), Decimal(0)),
        "by_source": rows(1),
        "by_campaign": rows(2),
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


def criteria_report(
    *, definition: Definition, leads: QuerySet[Lead], rolled: bool | None = None
) -> dict[str, Any]:
    """For each MQL criterion of the definition, what says whether it is the right one: how often
    sales rejected citing it and how those leads ended (won after all?) beside the won rate of
    the MQLs sales accepted, and what share of the won leads passed it when they qualified
    (an override that let a failing lead through counts as failed). Among MQLs every criterion
    passed by construction, so "MQLs that passed" alone says nothing. Over every qualification
    under the version: from the figure rollups when every lead counts."""
    if rolled is None:
        rolled = figures.enabled() and not leads.query.where
    codes = [c["code"] for c in definition.stage(LeadState.MQL).get("criteria", [])]
    if rolled:
        rows = figures.by_figure(figures.figure_rows(
            ["c.pass", "c.qualified", "c.answer", "c.accepted"], None,
            definition_id=definition.pk,
        ))  # fmt: skip
        counts: dict[tuple[str, bool], tuple[int, int]] = {
            (r.key, r.key2 == "true"): (r.leads, r.won) for r in rows["c.pass"]
        }
        won_qualified = sum(r.won for r in rows["c.qualified"])
        by_answer = {
            (r.key, r.key2): {"n": r.n, "leads": r.leads, "won": r.won} for r in rows["c.answer"]
        }
        accepted_n = sum(r.leads for r in rows["c.accepted"])
        accepted_won = sum(r.won for r in rows["c.accepted"])
    else:
        counts = {
            (code, bool(passed)): (n, won)
            for code, passed, n, won in _criteria_counts(definition, leads)
        }
        qualified = scoped(LeadTransition.objects.filter(
            transition=TransitionName.QUALIFY_MQL, definition=definition), leads)  # fmt: skip
        won_qualified = (
            qualified.filter(lead__state=LeadState.WON).values("lead_id").distinct().count()
        )
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
        accepted_won = (
            accepted.filter(lead__state=LeadState.WON).values("lead_id").distinct().count()
        )

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


def recycling_report(
    *, period: Period, leads: QuerySet[Lead], rolled: bool | None = None
) -> dict[str, Any]:
    """What went back to marketing in the period (by the transition and the reason that sent
    it), the re-entries (recycled → mql) in the period, and of the recyclings in the period how
    many the lead came back from as an MQL (its next transition) and how many ended in a won
    deal. From the figure rollups for whole days when every lead counts."""
    days = figures.whole_days(period)
    if rolled is None:
        rolled = figures.enabled() and days is not None and not leads.query.where
    by_transition: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    if rolled and days is not None:
        rows = figures.by_figure(figures.figure_rows(
            ["r.recycled", "r.came_back", "r.won", "r.reentry"], days))  # fmt: skip
        for r in rows["r.recycled"]:
            by_transition[r.key] += r.n
            reasons[r.key2] += r.n
        reentries, came_back, won = (
            sum(r.n for r in rows[f]) for f in ("r.reentry", "r.came_back", "r.won")
        )
    else:
        moves = scoped(LeadTransition.objects.filter(
            occurred_at__gte=period.start, occurred_at__lt=period.end), leads)  # fmt: skip
        recycled = moves.filter(to_state=LeadState.RECYCLED)
        for transition, reason, n in (
            recycled.values_list("transition", "reason").annotate(n=Count("id")).order_by()
        ):
            by_transition[transition] += n
            reasons[reason or ""] += n
        reentries = moves.filter(from_state=LeadState.RECYCLED, to_state=LeadState.MQL).count()
        # The transition after each recycling: back to mql, or not (yet).
        after = LeadTransition.objects.filter(
            Q(occurred_at__gt=OuterRef("occurred_at"))
            | Q(occurred_at=OuterRef("occurred_at"), pk__gt=OuterRef("pk")),
            lead_id=OuterRef("lead_id"),
        ).order_by("occurred_at", "id")
        came_back = (
            recycled.annotate(next_to=Subquery(after.values("to_state")[:1]))
            .filter(next_to=LeadState.MQL)
            .count()
        )
        won = recycled.filter(lead__state=LeadState.WON).count()
    by_reason = sorted(((n, r) for r, n in reasons.items() if n), key=lambda x: (-x[0], x[1]))
    return {
        "recycled": sum(by_transition.values()),
        "by_transition": {t: n for t, n in sorted(by_transition.items()) if n},
        "by_reason": [{"reason": r, "count": n} for n, r in by_reason[:20]],
        "reentries": reentries,
        "came_back": came_back,
        "eventually_won": won,
    }
