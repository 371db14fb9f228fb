"""The definition advisor's first part (SPEC §14 "What predicts winning"): over the leads whose
outcome became known in the period, the win rate of each value of each candidate attribute, with
a 95% Wilson interval and the lift against the base rate, sorted by how many wins the value
explains beyond the base rate; and, per criterion of the published definition, the rejections
citing it and how many of the leads rejected for it were won all the same.

An outcome is the lead's last `win` (won) or `lose`, `reject`, `disqualify`, `is_disqualify`
(not won) in the period. `stage=mql` counts the leads that had become MQLs, `stage=sql` the ones
that had become SQLs. Every figure is one GROUP BY over the leads (an attribute is a CASE
expression), so the work is the database's and memory does not grow with the leads.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from leads.choices import LeadState, TransitionName
from leads.models import Definition, Lead, LeadTransition

if TYPE_CHECKING:
    from analytics.periods import Period

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
}


def population(*, period: Period, stage: str, leads: QuerySet[Lead]) -> QuerySet[Lead]:
    """The leads with an outcome in the period, each with `won` (1 or 0)."""
    last = (
        LeadTransition.objects.filter(
            lead_id=OuterRef("pk"), transition__in=OUTCOMES,
            occurred_at__gte=period.start, occurred_at__lt=period.end,
        )
        .order_by("-occurred_at", "-id")
        .values("transition")[:1]
    )  # fmt: skip
    reached = LeadTransition.objects.filter(lead_id=OuterRef("pk"), to_state=STAGES[stage])
    return (
        leads.annotate(outcome=Subquery(last)).filter(outcome__isnull=False).filter(Exists(reached))
    )


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


def advisor_report(
    *, period: Period, stage: str, leads: QuerySet[Lead], definition: Definition | None
) -> dict[str, Any]:
    pop = population(period=period, stage=stage, leads=leads).annotate(
        won_flag=Case(When(outcome=T.WIN, then=1), default=0)
    )
    totals = pop.aggregate(n=Count("pk"), won=Count("pk", filter=Q(outcome=T.WIN)))
    n, won = totals["n"], totals["won"]
    base = won / n if n else 0.0
    rows: list[dict[str, Any]] = []
    if n:
        for attribute, expression in ATTRIBUTES.items():
            grouped = (
                pop.annotate(value=Coalesce(expression, Value(""), output_field=CharField()))
                .values("value")
                .annotate(n=Count("pk"), won=Count("pk", filter=Q(outcome=T.WIN)))
                .order_by()
            )
            rows += [_row(attribute, g["value"], g["n"], g["won"], base) for g in grouped]
    rows.sort(key=lambda r: (-abs(r["gain"]), r["attribute"], r["value"]))
    return {
        "stage": stage, "leads": n, "won": won, "base_rate": round(base, 4) if n else None,
        "base_interval": [round(v, 4) for v in wilson(won, n) or ()] or None,
        "attributes": rows,
        "criteria": _criteria(period, leads, definition),
    }  # fmt: skip


def _criteria(
    period: Period, leads: QuerySet[Lead], definition: Definition | None
) -> list[dict[str, Any]]:
    """Per MQL criterion: the rejections citing it in the period, and how many of the leads
    rejected for it were won later all the same (within a year)."""
    if definition is None:
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
    out = []
    for crit in definition.stage(LeadState.MQL).get("criteria", []):
        r = counted.get(crit["code"], {"n": 0, "won": 0})
        interval = wilson(r["won"], r["n"])
        out.append({
            "code": crit["code"], "kind": crit["kind"], "rejections": r["n"],
            "rejected_then_won": r["won"],
            "won_rate_rejected": round(r["won"] / r["n"], 4) if r["n"] else None,
            "interval": [round(v, 4) for v in interval] if interval else None,
        })  # fmt: skip
    return out
