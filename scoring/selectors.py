"""Scoring reads: the rules, and one lead's score breakdown (from the reference arithmetic)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from leadflow.errors import NotFound
from leads.models import Event, Lead
from scoring import reference
from scoring.choices import RuleKind
from scoring.engine import active_rules
from scoring.models import ScoringRule


def rule_list() -> QuerySet[ScoringRule]:
    return ScoringRule.objects.all()


def rule_get(*, rule_id: int) -> ScoringRule:
    try:
        return ScoringRule.objects.get(pk=rule_id)
    except (ScoringRule.DoesNotExist, ValueError) as exc:
        raise NotFound(f"No scoring rule {rule_id}.") from exc


def lead_score_breakdown(*, lead: Lead, as_of: datetime) -> dict[str, Any]:
    eng_rules = active_rules(RuleKind.ENGAGEMENT)
    types = {r.event_type for r in eng_rules}
    events = list(Event.objects.filter(lead=lead, type__in=types).order_by("occurred_at", "id"))
    eng_total, eng = reference.engagement(eng_rules, events, as_of)
    fit_total, fit = reference.fit(active_rules(RuleKind.FIT), lead)
    return {
        "lead": lead.pk,
        "as_of": as_of,
        "fit_score": float(lead.fit_score),
        "engagement_score": float(lead.engagement_score),
        "score": float(lead.fit_score + lead.engagement_score),
        "computed": {"fit": float(fit_total), "engagement": float(eng_total)},
        "fit": fit,
        "engagement": eng,
    }
