"""The dashboard's figure rollups are kept by every write that changes them: after each kind of
write (a qualification and its handoff, a re-assignment, an SLA breach that re-assigns, an
answer, a win, the automatic MQL of many leads at once, a recycling and a re-entry) the rollups
plus their pending deltas equal what the figures' definition gives over the whole database,
before and after the compaction and the rebuild."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.utils import timezone

from analytics import figures
from analytics.models import FigureDelta
from handoff.models import Handoff
from handoff.services import handoff_reassign, handoff_sla_sweep
from leads.models import Definition, Lead
from leads.services.transitions import lead_qualify_mql_bulk, lead_transition
from tests.analytics.rollups import kept
from tests.factories import advance, give_events, make_lead, set_engagement

pytestmark = pytest.mark.django_db


def truth() -> dict[tuple[Any, ...], tuple[Any, ...]]:
    every = list(Lead.objects.values_list("pk", flat=True))
    return {k: tuple(v) for k, v in figures.contributions(every).items() if any(v)}


def check(what: str, *figure_names: str) -> None:
    got = kept()
    assert got == truth(), what
    for name in figure_names:
        assert any(k[1] == name for k in got), (what, name)


def qualified() -> Lead:
    lead = make_lead()
    set_engagement(lead, 25)
    give_events(lead, "quote_request")
    return lead_transition(lead_id=lead.pk, name="qualify_mql", actor=None)


def test_every_write_keeps_the_rollups_equal_to_the_figures_definition(
    users: dict[str, Any], published_definition: Any
) -> None:
    doc = published_definition.document
    doc["stages"]["mql"]["reassign_on_breach"] = True
    Definition.objects.filter(pk=published_definition.pk).update(document=doc)
    coo = users["coo"]

    lead = qualified()
    check("a qualification opens a handoff", "h.total", "h.open", "c.pass", "c.qualified")
    h = Handoff.objects.get(lead=lead)
    other = users["rep_a2"] if h.assignee_id != users["rep_a2"].pk else users["rep_a"]
    handoff_reassign(handoff_id=h.pk, assignee_id=other.pk, actor=coo)
    check("a re-assignment moves the handoff's figures to the new rep")
    assert not any(k[4] == h.assignee_id and k[1] == "h.total" for k in kept())

    with time_machine.travel(h.due_at + timedelta(minutes=1)):
        assert handoff_sla_sweep()["breached"] == 1
    check("a breach that re-assigns", "h.breached")

    h.refresh_from_db()
    assignee = get_user_model().objects.get(pk=h.assignee_id)
    advance(lead, ("reject", assignee, {"reason": "engaged"}))
    check("a rejection answers the handoff and recycles", "h.rejected", "h.response",
          "c.answer", "r.recycled")  # fmt: skip

    won = qualified()
    owner = get_user_model().objects.get(pk=Handoff.objects.get(lead=won).assignee_id)
    Lead.objects.filter(pk=won.pk).update(
        decision_maker=True, budget="5000000",
        timeline=(timezone.now() + timedelta(days=30)).date(),
    )  # fmt: skip
    advance(won, ("accept", owner, {}), ("qualify_sql", owner, {}),
            ("win", owner, {"amount": Decimal("1200000")}))  # fmt: skip
    check("an acceptance and a win", "h.accepted", "c.accepted", "w.won")
    assert sum(v[2] for k, v in kept().items() if k[1] == "c.qualified") == 1, "won counted"

    waiting = [make_lead() for _ in range(3)]
    for w in waiting:
        set_engagement(w, 25)
        give_events(w, "quote_request")
    assert sorted(lead_qualify_mql_bulk(lead_ids=[w.pk for w in waiting])) == [
        w.pk for w in waiting
    ]
    check("the automatic MQL of many leads at once")

    Lead.objects.filter(pk=lead.pk).update(recyclable_at=timezone.now() - timedelta(days=1))
    lead_transition(lead_id=lead.pk, name="qualify_mql", actor=None)
    check("a recycled lead comes back", "r.came_back", "r.reentry")

    assert FigureDelta.objects.exists()
    figures.figures_compact()
    assert not FigureDelta.objects.exists()
    check("after the compaction")
    before = kept()
    figures.figures_rebuild()
    assert kept() == before, "a rebuild from scratch gives the same rows"
