"""The demo data walks real lifecycle edges: state = last history row, criteria passed."""

from __future__ import annotations

from io import StringIO
from typing import Any

from django.core.management import call_command

from leads.choices import LeadState
from leads.lifecycle import EDGES
from leads.models import Definition, Event, Lead, LeadTransition


def test_seed_demo_is_consistent(db: Any) -> None:
    out = StringIO()
    call_command("seed_demo", "--leads", "600", stdout=out)
    assert "demo-coo" in out.getvalue()
    assert Definition.objects.filter(status="published").count() == 1
    assert Event.objects.exists()
    last: dict[int, LeadTransition] = {}
    for row in LeadTransition.objects.order_by("occurred_at", "id"):
        prev = last.get(row.lead_id)
        assert (row.transition, row.from_state) in EDGES
        assert EDGES[(row.transition, row.from_state)] == row.to_state
        assert prev is None or prev.to_state == row.from_state
        assert prev is None or prev.occurred_at <= row.occurred_at
        if row.transition in ("qualify_mql", "qualify_sql"):
            assert row.evaluation and all(c["passed"] for c in row.evaluation), row.evaluation
        last[row.lead_id] = row
    for lead in Lead.objects.all():
        expected = last[lead.pk].to_state if lead.pk in last else LeadState.LEAD
        assert lead.state == expected
    states = set(Lead.objects.values_list("state", flat=True))
    assert states == set(LeadState.values)
    again = StringIO()
    call_command("seed_demo", "--if-empty", stdout=again)
    assert "already" in again.getvalue()
    assert Lead.objects.count() == 600


def test_seed_demo_has_handoffs_matching_the_history(db: Any) -> None:
    from handoff.models import Handoff

    call_command("seed_demo", "--leads", "400", stdout=StringIO())
    entries = LeadTransition.objects.filter(to_state=LeadState.MQL).count()
    assert Handoff.objects.count() == entries > 0
    assert set(Handoff.objects.filter(status="open").values_list("lead_id", flat=True)) == set(
        Lead.objects.filter(state=LeadState.MQL).values_list("pk", flat=True)
    )
    assert (
        Handoff.objects.filter(status="accepted").count()
        == LeadTransition.objects.filter(transition="accept").count()
    )
    assert Handoff.objects.filter(breached_at__isnull=False).exists()
