"""The scoring arithmetic in plain Python, one lead at a time.

It serves the score breakdown endpoint, and is the oracle the SQL engine is tested against:
    engagement = Σ_rules min(cap, Σ_matching events points × 0.5^(age_days / half_life))
    fit        = Σ_rules points  (each rule whose condition the lead meets, once)
both rounded to cents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from scoring.choices import FitOp, PropertyOp

CENT = Decimal("0.01")


def to_cents(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class RuleScore:
    rule_id: int
    name: str
    kind: str
    points: float = 0.0
    capped: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)
    matched_value: Any = None


def decayed(
    points: float, occurred_at: datetime, as_of: datetime, half_life: float | None
) -> float:
    if not half_life:
        return points
    age_days = max((as_of - occurred_at).total_seconds(), 0.0) / 86400.0
    return float(points * 0.5 ** (age_days / half_life))


def event_matches(rule: Any, event_type: str, properties: dict[str, Any]) -> bool:
    if event_type != rule.event_type:
        return False
    if not rule.property_key:
        return True
    value = properties.get(rule.property_key)
    if not isinstance(value, str):
        return False
    target = rule.property_value
    return bool(
        {
            PropertyOp.CONTAINS: target in value,
            PropertyOp.EQUALS: value == target,
            PropertyOp.PREFIX: value.startswith(target),
        }[PropertyOp(rule.property_op)]
    )


def engagement(
    rules: list[Any], events: list[Any], as_of: datetime
) -> tuple[Decimal, list[RuleScore]]:
    """`events` have `.id`, `.type`, `.occurred_at`, `.properties`."""
    out = []
    for rule in rules:
        hl = float(rule.half_life_days) if rule.half_life_days else None
        rs = RuleScore(rule.pk, rule.name, rule.kind)
        for e in events:
            if event_matches(rule, e.type, e.properties or {}):
                value = decayed(float(rule.points), e.occurred_at, as_of, hl)
                rs.events.append(
                    {
                        "id": e.pk,
                        "type": e.type,
                        "occurred_at": e.occurred_at,
                        "value": round(value, 4),
                    }
                )
                rs.points += value
        if rule.cap is not None and rs.points > float(rule.cap):
            rs.points, rs.capped = float(rule.cap), True
        out.append(rs)
    return to_cents(sum(r.points for r in out)), out


def _field_value(lead: Any, name: str) -> Any:
    if name.startswith("attributes."):
        return (lead.attributes or {}).get(name.split(".", 1)[1])
    return getattr(lead, name)


def fit_matches(rule: Any, lead: Any) -> tuple[bool, Any]:
    op, values = FitOp(rule.operator), rule.values
    if op == FitOp.EMAIL_DOMAIN_IN:
        domain = lead.email.rsplit("@", 1)[-1].lower()
        return domain in {str(v).lower() for v in values}, domain
    value = _field_value(lead, rule.field)
    if op == FitOp.PRESENT:
        return value is not None and value != "", value
    if value is None or value == "":
        return False, value
    if op == FitOp.BETWEEN:
        low, high = values[0], values[1]
        number = Decimal(str(value))
        return (low is None or number >= Decimal(str(low))) and (
            high is None or number <= Decimal(str(high))
        ), value
    text = str(value).lower()
    wanted = [str(v).lower() for v in values]
    if op == FitOp.CONTAINS:
        return any(w in text for w in wanted), value
    return text in wanted, value  # equals / in


def fit(rules: list[Any], lead: Any) -> tuple[Decimal, list[RuleScore]]:
    out = []
    for rule in rules:
        matched, value = fit_matches(rule, lead)
        rs = RuleScore(
            rule.pk,
            rule.name,
            rule.kind,
            float(rule.points) if matched else 0.0,
            matched_value=value,
        )
        out.append(rs)
    return to_cents(sum(r.points for r in out)), out
