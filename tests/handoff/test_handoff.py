"""Handoffs: assignment, answering, SLA breach, recycling, permissions."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from accounts.models import Team, TeamMembership
from handoff.models import AssignmentRule, Handoff
from handoff.services import handoff_sla_sweep, recycle_sweep
from leads.models import Definition, Lead, LeadTransition
from leads.services.transitions import TransitionArgs, lead_transition
from tests.factories import advance, give_events, make_lead, set_engagement


def qualify(**fields: Any) -> Lead:
    lead = make_lead(**fields)
    set_engagement(lead, 25)
    give_events(lead, "quote_request")
    return lead_transition(lead_id=lead.pk, name="qualify_mql", actor=None)


def test_entering_mql_opens_one_handoff_round_robin(users: Any, published_definition: Any) -> None:
    reps = {users[r].pk for r in ("rep_a", "rep_a2", "rep_b")}
    leads = [qualify() for _ in range(6)]
    handoffs = list(Handoff.objects.order_by("id"))
    assert len(handoffs) == 6 and all(h.status == "open" for h in handoffs)
    assert Counter(h.assignee_id for h in handoffs) == {pk: 2 for pk in reps}
    assert {h.assignee_id for h in handoffs[:3]} == reps, "everyone gets one before anyone gets two"
    for lead, h in zip(leads, handoffs, strict=True):
        assert (lead.owner_id, lead.team_id) == (h.assignee_id, h.team_id)
        assert TeamMembership.objects.filter(
            user_id=h.assignee_id, team_id=h.team_id, role="rep"
        ).exists()
        assert h.due_at == h.opened_at + timedelta(hours=24)
        row = LeadTransition.objects.get(lead=lead)
        assert h.qualification == row and row.owner_after_id == h.assignee_id


def test_unavailable_reps_are_skipped(users: Any, published_definition: Any) -> None:
    TeamMembership.objects.filter(user__in=[users["rep_a"], users["rep_b"]]).update(
        is_available=False
    )
    assert {qualify().owner_id for _ in range(3)} == {users["rep_a2"].pk}


def test_assignment_rules_first_match_wins(users: Any, published_definition: Any) -> None:
    team_b = Team.objects.get(name="Team B")
    AssignmentRule.objects.create(
        position=1,
        name="Manufacturing to B",
        field="industry",
        operator="equals",
        values=["manufacturing"],
        team=team_b,
    )
    AssignmentRule.objects.create(
        position=2,
        name="Software to Abe",
        field="industry",
        operator="in",
        values=["software", "manufacturing"],
        rep=users["rep_a2"],
    )
    assert qualify(industry="manufacturing").owner == users["rep_b"]
    assert {qualify(industry="software").owner_id for _ in range(3)} == {users["rep_a2"].pk}


def test_accept_and_reject_close_the_handoff(users: Any, published_definition: Any) -> None:
    first, second = qualify(), qualify()
    h1 = Handoff.objects.get(lead=first)
    assignee = h1.assignee
    accepted = lead_transition(lead_id=first.pk, name="accept", actor=assignee)
    assert accepted.state == "sal" and accepted.owner == assignee
    h1.refresh_from_db()
    assert (h1.status, h1.answered_by) == ("accepted", assignee) and h1.answered_at is not None
    h2 = Handoff.objects.get(lead=second)
    lead_transition(
        lead_id=second.pk,
        name="reject",
        actor=h2.assignee,
        args=TransitionArgs(reason="icp", note="Too small"),
    )
    h2.refresh_from_db()
    assert (h2.status, h2.reason, h2.note) == ("rejected", "icp", "Too small")
    assert not Handoff.objects.filter(status="open").exists()


def test_only_one_open_handoff_per_lead_is_a_constraint(
    users: Any, published_definition: Any
) -> None:
    from django.db import IntegrityError, transaction

    lead = qualify()
    h = Handoff.objects.get(lead=lead)
    with pytest.raises(IntegrityError), transaction.atomic():
        Handoff.objects.create(lead=lead, due_at=h.due_at, warn_at=h.warn_at)


@pytest.mark.usefixtures("eager_tasks")
def test_sla_warning_then_breach_once_managers_notified_and_reassigned(
    users: Any, published_definition: Any, django_capture_on_commit_callbacks: Any
) -> None:
    doc = published_definition.document
    doc["stages"]["mql"]["reassign_on_breach"] = True
    Definition.objects.filter(pk=published_definition.pk).update(document=doc)
    for u in users.values():
        u.email = f"{u.username}@example.jp"
        u.save()
    TeamMembership.objects.filter(user=users["rep_b"]).update(is_available=False)
    with django_capture_on_commit_callbacks(execute=True):
        lead = qualify()
    h = Handoff.objects.get(lead=lead)
    first = h.assignee
    assert [m.to for m in mail.outbox] == [[first.email]] and "New handoff" in mail.outbox[
        0
    ].subject
    mail.outbox.clear()
    with (
        time_machine.travel(h.opened_at + timedelta(hours=19)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert handoff_sla_sweep() == {"warned": 1, "breached": 0, "reassigned": 0}
        assert handoff_sla_sweep() == {"warned": 0, "breached": 0, "reassigned": 0}
    assert [m.to for m in mail.outbox] == [[first.email]] and "SLA soon" in mail.outbox[0].subject
    mail.outbox.clear()
    with (
        time_machine.travel(h.due_at + timedelta(minutes=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert handoff_sla_sweep() == {"warned": 0, "breached": 1, "reassigned": 1}
        assert handoff_sla_sweep()["breached"] == 0, "a breach is marked once"
    h.refresh_from_db()
    assert h.breached_at is not None and h.reassign_count == 1
    assert h.assignee != first and h.assignee.username in ("aoki", "abe")
    assert h.due_at > h.breached_at
    recipients = {tuple(m.to) for m in mail.outbox}
    assert (users["manager_a"].email,) in recipients, "the team's manager hears of the breach"
    assert (users["manager_b"].email,) not in recipients
    assert (h.assignee.email,) in recipients, "the new assignee is told"


def test_lost_leads_recycle_after_their_cooloff(users: Any, published_definition: Any) -> None:
    lead = qualify(
        decision_maker=True, budget="1000000", timeline=(timezone.now() + timedelta(days=30)).date()
    )
    rep = Handoff.objects.get(lead=lead).assignee
    lead = advance(
        lead, ("accept", rep, {}), ("qualify_sql", rep, {}), ("lose", rep, {"reason": "timing"})
    )
    assert recycle_sweep() == 0
    with time_machine.travel(timezone.now() + timedelta(days=91)):
        assert recycle_sweep() == 1
    lead = Lead.objects.get(pk=lead.pk)
    assert lead.state == "recycled" and lead.recycle_reason == "lost:timing"
    row = LeadTransition.objects.filter(lead=lead).order_by("-id").first()
    assert row is not None and (row.transition, row.actor_kind) == ("recycle", "system")


def test_other_team_cannot_see_or_answer(
    client_for: Any, users: Any, published_definition: Any
) -> None:
    TeamMembership.objects.filter(user__in=[users["rep_a2"], users["rep_b"]]).update(
        is_available=False
    )
    lead = qualify()
    assert lead.owner == users["rep_a"]
    rep_b = client_for("rep_b")
    assert rep_b.get(f"/api/v1/leads/{lead.pk}/").status_code == 404
    assert rep_b.get("/api/v1/handoffs/").json()["results"] == []
    for name, body in (("accept", {}), ("reject", {"reason": "icp"})):
        assert (
            rep_b.post(
                f"/api/v1/leads/{lead.pk}/transitions/{name}/", body, format="json"
            ).status_code
            == 404
        )
    assert (
        client_for("manager_b")
        .post(f"/api/v1/leads/{lead.pk}/transitions/accept/", {}, format="json")
        .status_code
        == 404
    )
    assert (
        client_for("marketing")
        .post(f"/api/v1/leads/{lead.pk}/transitions/accept/", {}, format="json")
        .status_code
        == 403
    )
    assert (
        client_for("rep_a2")
        .post(f"/api/v1/leads/{lead.pk}/transitions/accept/", {}, format="json")
        .status_code
        == 200
    )
    assert Handoff.objects.get(lead=lead).status == "accepted"


def test_handoff_inbox_filters_and_scope(
    client_for: Any, users: Any, published_definition: Any, django_assert_max_num_queries: Any
) -> None:
    leads = [qualify() for _ in range(6)]
    Handoff.objects.filter(lead=leads[0]).update(breached_at=timezone.now())
    rep_a = client_for("rep_a")
    mine = rep_a.get("/api/v1/handoffs/?assignee=me&status=open").json()["results"]
    assert {h["assignee"] for h in mine} == {users["rep_a"].pk} and len(mine) == 2
    team = rep_a.get("/api/v1/handoffs/").json()["results"]
    assert {h["team"] for h in team} == {Team.objects.get(name="Team A").pk} and len(team) == 4
    item = team[0]
    assert {"lead", "evaluation", "due_at", "breached", "status"} <= set(item)
    assert item["lead"]["email"] and [c["code"] for c in item["evaluation"]] == [
        "engaged",
        "icp",
        "contactable",
        "need",
    ]
    assert len(client_for("coo").get("/api/v1/handoffs/?breached=true").json()["results"]) == 1
    assert len(client_for("manager_b").get("/api/v1/handoffs/").json()["results"]) == 2
    with django_assert_max_num_queries(6):
        client_for("coo").get("/api/v1/handoffs/?page_size=50")
