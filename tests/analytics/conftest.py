"""The generated history the report tests share."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from handoff.models import Handoff
from leads.models import Event, Lead
from leads.services.transitions import TransitionArgs, lead_transition
from tests.factories import give_events, make_lead, set_engagement

T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


def at(days: float) -> Any:
    return time_machine.travel(T0 + timedelta(days=days), tick=False)


def step(lead: Lead, name: str, actor: Any, day: float, **kw: Any) -> Lead:
    with at(day):
        return lead_transition(lead_id=lead.pk, name=name, actor=actor, args=TransitionArgs(**kw))


@pytest.fixture
def history(users: Any, published_definition: Any) -> dict[str, Any]:
    """40 leads walking random but real paths over three months."""
    rng = random.Random(5)
    later = (T0 + timedelta(days=120)).date()
    for i in range(40):
        day = rng.uniform(0, 60)
        source, campaign = rng.choice([("ad", "search"), ("seminar", "dx-tokyo"), ("web_form", "")])
        with at(day):
            lead = make_lead(
                source=source,
                campaign=campaign,
                decision_maker=True,
                budget="1000000",
                timeline=later,
            )
            set_engagement(lead, 30)
            give_events(lead, "quote_request", days_ago=0)
            Event.objects.filter(lead=lead).update(properties={"utm_campaign": f"touch-{i % 3}"})
        if rng.random() < 0.3:
            continue
        lead = step(lead, "qualify_mql", None, day + rng.uniform(0.1, 2))
        rep = Handoff.objects.get(lead=lead, status="open").assignee
        d = day + 3
        if rng.random() < 0.3:
            lead = step(lead, "reject", rep, d, reason=rng.choice(["icp", "need"]))
            if rng.random() < 0.5:
                continue
            Lead.objects.filter(pk=lead.pk).update(recyclable_at=T0)
            with at(d + 1):
                give_events(lead, "quote_request", days_ago=0)
            lead = step(lead, "qualify_mql", None, d + 1.5)
            rep = Handoff.objects.get(lead=lead, status="open").assignee
            d += 2
        if rng.random() < 0.2:
            continue  # still an MQL
        lead = step(lead, "accept", rep, d + rng.uniform(0.1, 2))
        if rng.random() < 0.3:
            continue
        lead = step(lead, "qualify_sql", rep, d + 4)
        if rng.random() < 0.5:
            step(lead, "win", rep, d + 8, amount=Decimal(rng.choice([100, 300, 500]) * 10_000))
        else:
            step(lead, "lose", rep, d + 7, reason="price")
    return {"from": "2026-09-01", "to": "2026-12-31"}
