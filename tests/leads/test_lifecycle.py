"""The transition table: every (state, transition) pair, the permissions, the requirements."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from leadflow.errors import CriteriaNotMet, Forbidden, TransitionNotAvailable, ValidationFailed
from leads.choices import LeadState, TransitionName
from leads.lifecycle import EDGES
from leads.models import Lead, LeadTransition
from leads.services.transitions import TransitionArgs, lead_transition
from tests.factories import advance, give_events, make_lead, make_mql, set_engagement

S = LeadState
QUALIFIED = {"decision_maker": True, "budget": "5000000", "timeline": None}
ARGS: dict[str, dict[str, Any]] = {
    "qualify_mql": {},
    "accept": {},
    "reject": {"reason": "other", "note": "Not now"},  # valid from mql and from tql
    "claim": {},
    "is_accept": {},
    "qualify_tql": {},
    "is_disqualify": {"reason": "unreachable"},
    "is_claim": {},
    "qualify_sql": {},
    "disqualify": {"reason": "no_budget", "note": "Budget frozen"},
    "win": {"amount": Decimal("1200000")},
    "lose": {"reason": "price"},
    "recycle": {},
    "archive": {"reason": "spam"},
}


@pytest.fixture
def root(db: Any) -> Any:
    return get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-1")


# The transitions of SPEC §13, and the states only inside sales reaches.
IS_NAMES = {"is_accept", "qualify_tql", "is_disqualify", "is_claim"}
IS_STATES = {S.TAL, S.TQL}


def lead_in(state: str, root: Any, team: Any, *, inside_sales: bool = False) -> Lead:
    """A lead brought to `state` by the real transitions, ready for every next step; with
    `inside_sales` (a definition routing MQLs through IS is published), through the IS stages."""
    sql_fields = {**QUALIFIED, "timeline": (timezone.now() + timedelta(days=30)).date()}
    if state == S.LEAD:  # an SGL (a TGL) that also meets the MQL criteria: both exits are real
        source = "inside_sales_generated" if inside_sales else "sales_generated"
        lead = make_lead(source=source, **sql_fields)
        set_engagement(lead, 25)
        give_events(lead, "quote_request")
        return Lead.objects.get(pk=lead.pk)
    if state == S.ARCHIVED:
        return advance(make_lead(), ("archive", root, {"reason": "spam"}))
    lead = make_mql(team=team, **sql_fields)
    to_sal = (
        [("is_accept", root, {}), ("qualify_tql", root, {}), ("accept", root, {})]
        if inside_sales
        else [("accept", root, {})]
    )
    path = {
        S.MQL: [],
        S.TAL: [("is_accept", root, {})],
        S.TQL: [("is_accept", root, {}), ("qualify_tql", root, {})],
        S.RECYCLED: [("reject", root, {"reason": "engaged"})],
        S.SAL: to_sal,
        S.SQL: [*to_sal, ("qualify_sql", root, {})],
        S.WON: [*to_sal, ("qualify_sql", root, {}), ("win", root, ARGS["win"])],
        S.LOST: [*to_sal, ("qualify_sql", root, {}), ("lose", root, ARGS["lose"])],
    }[state]
    lead = advance(lead, *path)
    if state == S.RECYCLED:  # past its cool-off, so qualify_mql is a real edge
        Lead.objects.filter(pk=lead.pk).update(recyclable_at=timezone.now() - timedelta(days=1))
    return Lead.objects.get(pk=lead.pk)


@pytest.mark.parametrize("state", S.values)
@pytest.mark.parametrize("name", TransitionName.values)
def test_transition_table(
    state: str, name: str, root: Any, users: Any, published_definition: Any, request: Any
) -> None:
    """Every (state, transition): the edges of SPEC §2 and §13 move the lead and write one
    history row, everything else is refused and writes nothing. The IS ones (and every move
    from an IS state) run where a definition routing MQLs through inside sales is published."""
    from accounts.models import Team

    through_is = name in IS_NAMES or state in IS_STATES
    team = Team.objects.get(name="Team A")
    if through_is:
        request.getfixturevalue("inside_sales")
        team = Team.objects.get(name="IS Tokyo")
    lead = lead_in(state, root, team, inside_sales=through_is)
    assert lead.state == state
    history_before = LeadTransition.objects.filter(lead=lead).count()
    if (name, state) in EDGES:
        moved = lead_transition(
            lead_id=lead.pk, name=name, actor=root, args=TransitionArgs(**ARGS[name])
        )
        assert moved.state == EDGES[(name, state)]
        row = LeadTransition.objects.filter(lead=lead).order_by("-id").first()
        assert row is not None
        assert (row.from_state, row.to_state, row.transition) == (state, moved.state, name)
        assert LeadTransition.objects.filter(lead=lead).count() == history_before + 1
        assert Lead.objects.get(pk=lead.pk).state == row.to_state
    else:
        with pytest.raises(TransitionNotAvailable):
            lead_transition(
                lead_id=lead.pk, name=name, actor=root, args=TransitionArgs(**ARGS[name])
            )
        assert Lead.objects.get(pk=lead.pk).state == state
        assert LeadTransition.objects.filter(lead=lead).count() == history_before


def test_every_transition_declares_a_permission() -> None:
    names: set[str] = set()
    for t in Lead._meta.get_field("state").get_all_transitions(Lead):
        assert t.permission is not None and callable(t.permission), f"{t.name} lacks a permission"
        names.add(t.name)
    assert names == set(TransitionName.values)
    assert {name for name, _ in EDGES} == names


def test_every_transition_edge_matches_the_spec() -> None:
    declared = {
        (t.name, t.source): t.target
        for t in Lead._meta.get_field("state").get_all_transitions(Lead)
    }
    assert declared == EDGES


def test_state_field_is_protected(db: Any) -> None:
    lead = make_lead()
    with pytest.raises(AttributeError):
        lead.state = S.WON


def test_qualify_mql_refused_with_failing_criteria(users: Any, published_definition: Any) -> None:
    lead = make_lead(industry="retail", phone="")
    with pytest.raises(CriteriaNotMet) as exc:
        lead_transition(lead_id=lead.pk, name="qualify_mql", actor=users["marketing"])
    by_code = {c["code"]: c for c in exc.value.criteria}
    assert set(by_code) == {"engaged", "icp", "contactable", "need"}
    assert not by_code["icp"]["passed"] and by_code["icp"]["observed"] == "retail"
    assert by_code["contactable"]["observed"] == {"missing": ["phone"]}
    assert Lead.objects.get(pk=lead.pk).state == S.LEAD
    assert not LeadTransition.objects.filter(lead=lead).exists()


def test_coo_override_needs_a_note_and_is_recorded(users: Any, published_definition: Any) -> None:
    lead = make_lead(industry="retail")
    with pytest.raises(ValidationFailed):
        lead_transition(
            lead_id=lead.pk,
            name="qualify_mql",
            actor=users["coo"],
            args=TransitionArgs(override=True),
        )
    with pytest.raises(Forbidden):
        lead_transition(
            lead_id=lead.pk,
            name="qualify_mql",
            actor=users["marketing"],
            args=TransitionArgs(override=True, note="trust me"),
        )
    moved = lead_transition(
        lead_id=lead.pk,
        name="qualify_mql",
        actor=users["coo"],
        args=TransitionArgs(override=True, note="Strategic account"),
    )
    assert moved.state == S.MQL
    row = LeadTransition.objects.get(lead=lead)
    assert row.override and row.note == "Strategic account" and row.actor == users["coo"]
    assert row.definition == published_definition
    assert any(not c["passed"] for c in row.evaluation)


def test_history_row_records_actor_teams_definition_and_evaluation(
    users: Any, published_definition: Any
) -> None:
    from accounts.models import Team

    team = Team.objects.get(name="Team A")
    lead = make_mql(team=team)
    system_row = LeadTransition.objects.get(lead=lead)
    assert system_row.actor is None and system_row.actor_kind == "system"
    assert (system_row.responsible_before, system_row.responsible_after) == ("marketing", "sales")
    assert [c["code"] for c in system_row.evaluation] == ["engaged", "icp", "contactable", "need"]
    assert all(c["passed"] for c in system_row.evaluation)
    lead = advance(lead, ("reject", users["rep_a"], {"reason": "icp", "note": "Too small"}))
    row = LeadTransition.objects.filter(lead=lead).order_by("-id").first()
    assert row is not None
    assert (row.transition, row.actor, row.reason, row.note) == (
        "reject",
        users["rep_a"],
        "icp",
        "Too small",
    )
    assert (row.team_before, row.team_after) == (team, None)
    assert (row.responsible_before, row.responsible_after) == ("sales", "marketing")
    assert lead.recyclable_at is not None and lead.recyclable_at > timezone.now() + timedelta(
        days=29
    )


def test_reject_needs_a_criterion_code_or_other_with_note(
    users: Any, published_definition: Any
) -> None:
    from accounts.models import Team

    lead = make_mql(team=Team.objects.get(name="Team A"))
    for args in ({}, {"reason": "price"}, {"reason": "other"}):
        with pytest.raises(ValidationFailed):
            lead_transition(
                lead_id=lead.pk, name="reject", actor=users["rep_a"], args=TransitionArgs(**args)
            )
    assert Lead.objects.get(pk=lead.pk).state == S.MQL
    moved = advance(lead, ("reject", users["rep_a"], {"reason": "other", "note": "Student"}))
    assert moved.state == S.RECYCLED and moved.recycle_reason == "other"


def test_win_needs_a_positive_amount_and_lose_a_spec_reason(
    users: Any, published_definition: Any
) -> None:
    from accounts.models import Team

    lead = make_mql(
        team=Team.objects.get(name="Team A"), **{**QUALIFIED, "timeline": timezone.now().date()}
    )
    lead = advance(lead, ("accept", users["rep_a"], {}), ("qualify_sql", users["rep_a"], {}))
    for amount in (None, Decimal(0), Decimal(-5)):
        with pytest.raises(ValidationFailed):
            lead_transition(
                lead_id=lead.pk,
                name="win",
                actor=users["rep_a"],
                args=TransitionArgs(amount=amount),
            )
    with pytest.raises(ValidationFailed):
        lead_transition(
            lead_id=lead.pk,
            name="lose",
            actor=users["rep_a"],
            args=TransitionArgs(reason="weather"),
        )
    lost = advance(lead, ("lose", users["rep_a"], {"reason": "competitor"}))
    assert lost.state == S.LOST and lost.lost_reason == "competitor"
    assert lost.recyclable_at is not None and lost.recyclable_at > timezone.now() + timedelta(
        days=89
    )


def test_recycled_lead_requalifies_only_after_cooloff(
    users: Any, published_definition: Any
) -> None:
    from accounts.models import Team

    lead = make_mql(team=Team.objects.get(name="Team A"))
    lead = advance(lead, ("reject", users["rep_a"], {"reason": "need"}))
    with pytest.raises(TransitionNotAvailable):
        lead_transition(lead_id=lead.pk, name="qualify_mql", actor=None)
    Lead.objects.filter(pk=lead.pk).update(recyclable_at=timezone.now() - timedelta(seconds=1))
    again = lead_transition(lead_id=lead.pk, name="qualify_mql", actor=None)
    assert again.state == S.MQL and again.recycle_count == 1


def test_claim_only_for_sales_generated(users: Any, published_definition: Any) -> None:
    web = make_lead(source="web_form")
    Lead.objects.filter(pk=web.pk).update(owner=users["rep_a"])
    with pytest.raises(TransitionNotAvailable):
        lead_transition(lead_id=web.pk, name="claim", actor=users["rep_a"])
    from leads.services.intake import lead_intake
    from tests.factories import LeadFieldsFactory

    sgl = lead_intake(fields=LeadFieldsFactory(source="sales_generated"), actor=users["rep_a"]).lead
    claimed = lead_transition(lead_id=sgl.pk, name="claim", actor=users["rep_a"])
    assert claimed.state == S.SAL and claimed.owner == users["rep_a"]
    assert claimed.team is not None and claimed.team.name == "Team A"


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("rep_a", True),
        ("rep_a2", True),
        ("manager_a", True),
        ("rep_b", False),
        ("manager_b", False),
        ("marketing", False),
        ("coo", False),
    ],
)
def test_accept_is_for_the_assigned_team_only(
    who: str, allowed: bool, users: Any, published_definition: Any
) -> None:
    from accounts.models import Team
    from leadflow.errors import NotFound

    lead = make_mql(team=Team.objects.get(name="Team A"), owner=users["rep_a"])
    if allowed:
        assert lead_transition(lead_id=lead.pk, name="accept", actor=users[who]).state == S.SAL
    else:
        with pytest.raises((Forbidden, NotFound)):
            lead_transition(lead_id=lead.pk, name="accept", actor=users[who])
        assert Lead.objects.get(pk=lead.pk).state == S.MQL
