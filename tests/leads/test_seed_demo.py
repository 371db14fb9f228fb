"""The demo data is lived through the services (SPEC §15 "Demo data tells a true story"): the
history walks real edges, handoffs are breached only when really answered late, fit rules
score, names match e-mails, and no lead that passes the MQL criteria is left unqualified."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from handoff.models import Handoff
from leads.choices import LeadState
from leads.lifecycle import EDGES
from leads.management.commands.seed_demo import GIVEN, SURNAMES
from leads.models import Definition, Event, Lead, LeadTransition
from leads.selectors import definition_published, lead_evaluate


@pytest.fixture(scope="module")
def seeded(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """One seed for the module, inside a transaction rolled back after it."""
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        call_command("seed_demo", "--leads", "500", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


pytestmark = pytest.mark.django_db


def test_the_history_walks_real_edges_and_ends_in_each_lead_state(seeded: str) -> None:
    assert "demo-coo" in seeded and "demo-admin" in seeded
    assert Definition.objects.filter(status="published").count() == 1
    assert Definition.objects.filter(status="retired").count() == 1, "a revised definition"
    assert Event.objects.exists()
    last: dict[int, LeadTransition] = {}
    for row in LeadTransition.objects.order_by("occurred_at", "id"):
        prev = last.get(row.lead_id)
        assert EDGES[(row.transition, row.from_state)] == row.to_state
        assert prev is None or prev.to_state == row.from_state
        if row.transition in ("qualify_mql", "qualify_tql", "qualify_sql"):
            assert row.evaluation and all(c["passed"] for c in row.evaluation), row.evaluation
        last[row.lead_id] = row
    for lead in Lead.objects.all():
        assert lead.state == (last[lead.pk].to_state if lead.pk in last else LeadState.LEAD)
    states = set(Lead.objects.values_list("state", flat=True))
    assert states >= {"lead", "mql", "sal", "sql", "won", "lost", "recycled", "archived"}
    moves = set(LeadTransition.objects.values_list("transition", flat=True))
    assert moves >= {"is_accept", "qualify_tql", "is_disqualify", "is_claim"}, (
        "inside sales works the MQLs of the revised definition, and finds leads of its own"
    )
    lanes = set(Lead.objects.exclude(lane="").values_list("lane", flat=True))
    assert lanes == {"mgl", "tgl", "sgl"}


def test_handoffs_are_breached_only_when_answered_late(seeded: str) -> None:
    handoffs = list(Handoff.objects.all())
    handed = LeadTransition.objects.filter(to_state__in=["mql", "tal", "tql"])
    assert len(handoffs) == handed.count() > 50, "one handoff per entry into mql, tal and tql"
    now = timezone.now()
    for h in handoffs:
        late = (h.answered_at or now) > h.due_at
        assert (h.breached_at is not None) == late, (h.pk, h.answered_at, h.due_at)
    in_time = sum(1 for h in handoffs if h.breached_at is None)
    assert in_time / len(handoffs) > 0.85, "a working company answers most handoffs in time"
    assert set(Handoff.objects.filter(status="open").values_list("lead_id", flat=True)) == set(
        Lead.objects.filter(state__in=["mql", "tal", "tql"]).values_list("pk", flat=True)
    )
    assert (
        Handoff.objects.filter(status="accepted").count()
        == LeadTransition.objects.filter(transition__in=["accept", "is_accept"]).count()
    )


def test_fit_rules_score_and_names_match_e_mails(seeded: str) -> None:
    with_fit = Lead.objects.filter(scores__fit__gt=0).count()
    assert with_fit > Lead.objects.count() / 2
    romaji = {kanji: roman for kanji, _kana, roman in [*SURNAMES, *GIVEN]}
    for email, last, first in Lead.objects.values_list("email", "last_name", "first_name"):
        assert re.match(rf"{romaji[first]}\.{romaji[last]}\d+@", email), email


def test_no_lead_that_passes_the_mql_criteria_waits_unqualified(seeded: str) -> None:
    definition = definition_published()
    now = timezone.now()
    waiting = Lead.objects.filter(state__in=[LeadState.LEAD, LeadState.RECYCLED])
    for lead in waiting:
        if lead.recyclable_at and lead.recyclable_at > now:
            continue
        evaluation = lead_evaluate(lead=lead, stage="mql", definition=definition, now=now)
        assert not all(c["passed"] for c in evaluation), lead.email


def test_it_runs_once_and_never_in_production_without_force(seeded: str, settings: Any) -> None:
    again = StringIO()
    call_command("seed_demo", "--if-empty", stdout=again)
    assert "already" in again.getvalue()
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo", stdout=StringIO())


def test_existing_accounts_are_never_changed(seeded: str) -> None:
    from django.contrib.auth import get_user_model

    from leads.management.commands.seed_demo import Command

    coo = get_user_model().objects.get(username="coo")
    coo.set_password("a-real-password-1")
    coo.save()
    out = StringIO()
    Command(stdout=out)._users()
    coo.refresh_from_db()
    assert coo.check_password("a-real-password-1")
    assert "exists, unchanged" in out.getvalue()


def test_the_seed_ends_with_the_nightly_training_of_the_predictive_score(seeded: str) -> None:
    from analytics.models import WinModel
    from leads.models import LeadScore

    model = WinModel.objects.get()
    assert f"'model': {model.pk}" in seeded
    won = LeadTransition.objects.filter(transition="win").values("lead").distinct().count()
    assert model.wins == won
    scored = LeadScore.objects.filter(win_probability__isnull=False)
    if model.status == WinModel.Status.TRAINED:
        assert scored.count() == LeadScore.objects.count() > 0
        assert set(scored.values_list("win_model", flat=True)) == {model.pk}
    else:
        assert won < 50 and not scored.exists()
