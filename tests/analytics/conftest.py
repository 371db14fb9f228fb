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
    """40 leads walking random but real paths over three months; then inside sales joins (a
    definition with the IS stages is published) and 16 more walk its paths: MQL → TAL → TQL
    (sent back or accepted) → SAL…, disqualified, a TGL claimed by IS and an SGL by field sales."""
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
    _inside_sales_history(users, random.Random(6), later)
    return {"from": "2026-09-01", "to": "2026-12-31"}


def _inside_sales_history(users: Any, rng: random.Random, later: Any) -> None:
    from accounts.services import user_add
    from leads.services.activities import activity_log
    from leads.services.definitions import definition_create, definition_publish
    from leads.services.intake import lead_intake
    from tests.conftest import inside_sales_document
    from tests.factories import LeadFieldsFactory

    is_reps = [user_add(username=f"is{i}", role="inside_sales", team="IS Tokyo") for i in (1, 2)]
    with at(62):
        d = definition_create(name="With IS", document=inside_sales_document(), actor=users["coo"])
        definition_publish(definition_id=d.pk)
    for i in range(16):
        day = 63 + rng.uniform(0, 20)
        source = {
            0: "inside_sales_generated",
            1: "inside_sales_generated",
            2: "sales_generated",
        }.get(i, "seminar")
        with at(day):
            fields = LeadFieldsFactory(source=source, campaign="is", decision_maker=True,
                                       budget="1000000", timeline=later)  # fmt: skip
            # An IS rep's own find (a TGL) and a field rep's (an SGL): they enter it.
            tgl, finder = i in (0, 1), {0: is_reps[0], 1: is_reps[1], 2: users["rep_a"]}.get(i)
            lead = lead_intake(fields=fields, actor=finder).lead
            set_engagement(lead, 30)
            give_events(lead, "quote_request", days_ago=0)
            Event.objects.filter(lead=lead).update(properties={"utm_campaign": f"touch-{i % 3}"})
        if tgl:
            lead = step(lead, "is_claim", is_reps[i], day + 0.2)
        elif i == 2:  # an SGL
            lead = step(lead, "claim", users["rep_a"], day + 0.2)
            continue
        else:
            lead = step(lead, "qualify_mql", None, day + rng.uniform(0.1, 1))
            if rng.random() < 0.2:
                continue  # still in the IS inbox
            lead = step(lead, "is_accept", lead.owner, day + 1.1)
        rep = lead.owner
        with at(day + 1.2):
            activity_log(lead_id=lead.pk, actor=rep, kind="call", outcome="connected")
        if rng.random() < 0.2:
            step(lead, "is_disqualify", rep, day + 2, reason="unreachable")
            continue
        lead = step(lead, "qualify_tql", rep, day + 2)
        if rng.random() < 0.3:
            lead = step(lead, "reject", lead.owner, day + 2.5, reason="budget")
            if rng.random() < 0.5:
                continue  # back with IS
            lead = step(lead, "qualify_tql", rep, day + 3)
        field = lead.owner
        lead = step(lead, "accept", field, day + 3.5)
        if rng.random() < 0.5:
            lead = step(lead, "qualify_sql", field, day + 5)
            step(lead, "win", field, day + 9, amount=Decimal(rng.choice([200, 400]) * 10_000))
