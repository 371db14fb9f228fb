"""Inside sales (SPEC §13): the definition's IS stages, IS teams, the MQL → TAL → TQL → SAL path
with its handoffs, activities and lanes, and what a later definition without IS leaves working."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Team
from accounts.services import user_add
from handoff.models import Handoff
from handoff.services import handoff_sla_sweep
from leadflow.errors import ValidationFailed
from leads.definitions import validate_document
from leads.models import Event, Lead, LeadTransition
from leads.services.definitions import definition_create, definition_publish
from leads.services.intake import lead_intake
from leads.services.transitions import TransitionArgs, lead_transition
from tests.conftest import (
    definition_document,
    inside_sales_document,
    requires_postgres,
    run_parallel,
)
from tests.factories import give_events, make_lead, set_engagement

pytestmark = pytest.mark.django_db


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def an_mql(**fields: Any) -> Lead:
    """A lead that meets the MQL criteria, qualified by the system (assignment and handoff as
    they really happen)."""
    lead = make_lead(**fields)
    set_engagement(lead, 25)
    give_events(lead, "quote_request")
    return lead_transition(lead_id=lead.pk, name="qualify_mql", actor=None)


# --- the definition ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "pointer"),
    [
        (lambda d: d["stages"].pop("tql"), "stages.tql"),
        (lambda d: d["stages"].pop("tal"), "stages.tal"),
        (lambda d: d["stages"]["mql"].update(owner="sales"), "stages.mql.owner"),
        (lambda d: d["stages"]["tal"].update(owner="sales"), "stages.tal.owner"),
        (lambda d: d["stages"]["tql"].update(owner="inside_sales"), "stages.tql.owner"),
        (lambda d: d["stages"]["tql"].update(criteria=[]), "stages.tql.criteria"),
        (lambda d: d["stages"]["tal"].update(sla_hours=0), "stages.tal.sla_hours"),
        (lambda d: d["stages"]["tal"].update(criteria=[]), "stages.tal.criteria"),
    ],
)
def test_the_inside_sales_stages_are_validated_with_pointers(edit: Any, pointer: str) -> None:
    doc = inside_sales_document()
    assert validate_document(doc) == []
    edit(doc)
    assert [e.field for e in validate_document(doc)] == [pointer]


def test_without_the_is_stages_inside_sales_owns_nothing(users: Any) -> None:
    doc = definition_document()
    doc["stages"]["mql"]["owner"] = "inside_sales"
    assert [e.field for e in validate_document(doc)] == ["stages.mql.owner"]
    r = api(users["coo"]).post("/api/v1/definitions/", {"name": "x", **doc}, format="json")
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "document.stages.mql.owner"


def test_publishing_is_refused_while_inside_sales_has_no_available_rep(users: Any) -> None:
    d = definition_create(name="IS", document=inside_sales_document(), actor=users["coo"])
    r = api(users["coo"]).post(f"/api/v1/definitions/{d.pk}/publish/", {}, format="json")
    assert r.status_code == 409
    assert "inside_sales" in r.json()["detail"]
    user_add(username="imai", role="inside_sales", team="IS Tokyo")
    r = api(users["coo"]).post(f"/api/v1/definitions/{d.pk}/publish/", {}, format="json")
    assert r.status_code == 200, r.content


def test_add_user_makes_an_inside_sales_rep_of_an_is_team(users: Any) -> None:
    rep = user_add(username="imai", role="inside_sales", team="IS Tokyo")
    assert Team.objects.get(name="IS Tokyo").function == "inside_sales"
    assert list(rep.groups.values_list("name", flat=True)) == ["inside_sales"]
    with pytest.raises(ValidationFailed):
        user_add(username="sato", role="sales", team="IS Tokyo")  # a field rep in an IS team


# --- the path ------------------------------------------------------------------------------------


def test_an_mql_goes_to_inside_sales_which_qualifies_it_for_field_sales(
    users: Any, inside_sales: dict[str, Any]
) -> None:
    is_rep, field_rep = inside_sales["is_rep"], users["rep_a"]
    lead = an_mql(phone="+81312345678")
    is_team = Team.objects.get(name="IS Tokyo")
    assert (lead.state, lead.team_id, lead.responsible, lead.lane) == (
        "mql", is_team.pk, "inside_sales", "mgl"
    )  # fmt: skip
    handoff = Handoff.objects.get(lead=lead, status="open")
    assert (handoff.stage, handoff.team_id) == ("mql", is_team.pk)
    assert handoff.due_at - handoff.opened_at == timedelta(hours=4)
    assert api(field_rep).get(f"/api/v1/leads/{lead.pk}/").status_code == 404, (
        "field sales does not read a lead before it reaches tql"
    )
    r = api(users["coo"]).post(f"/api/v1/leads/{lead.pk}/transitions/accept/", {}, format="json")
    assert r.status_code == 409 and "Accept for inside sales" in r.json()["detail"]

    owner = api(Lead.objects.get(pk=lead.pk).owner)
    r = owner.post(f"/api/v1/leads/{lead.pk}/transitions/is_accept/", {}, format="json")
    assert r.status_code == 200, r.content
    lead = Lead.objects.get(pk=lead.pk)
    assert (lead.state, lead.responsible) == ("tal", "inside_sales")
    is_rep = lead.owner
    assert Handoff.objects.get(pk=handoff.pk).status == "accepted"

    for outcome in ("no_answer", "connected"):
        r = api(is_rep).post(f"/api/v1/leads/{lead.pk}/activities/",
                             {"kind": "call", "outcome": outcome, "note": "担当者と話した"},
                             format="json")  # fmt: skip
        assert r.status_code == 201, r.content
    calls = Event.objects.filter(lead=lead, type="activity.call").order_by("id")
    assert [(e.properties["outcome"], e.properties["actor"]) for e in calls] == [
        ("no_answer", is_rep.pk), ("connected", is_rep.pk)
    ]  # fmt: skip
    timeline = api(is_rep).get(f"/api/v1/leads/{lead.pk}/timeline/").json()
    assert sum(1 for item in timeline["results"]
               if item["kind"] == "event" and item["event"]["type"] == "activity.call") == 2  # fmt: skip

    r = api(is_rep).post(f"/api/v1/leads/{lead.pk}/transitions/qualify_tql/", {}, format="json")
    assert r.status_code == 409, "budget and timing not heard yet"
    assert {c["code"] for c in r.json()["criteria"] if not c["passed"]} == {"budget", "timing"}
    heard = {"budget": "3000000", "timeline": str(timezone.localdate() + timedelta(days=60)),
             "need": "名刺管理の刷新"}  # fmt: skip
    assert api(is_rep).patch(f"/api/v1/leads/{lead.pk}/", heard, format="json").status_code == 200
    r = api(is_rep).post(f"/api/v1/leads/{lead.pk}/transitions/qualify_tql/", {}, format="json")
    assert r.status_code == 200, r.content
    lead = Lead.objects.get(pk=lead.pk)
    field_teams = set(Team.objects.filter(function="sales").values_list("pk", flat=True))
    assert lead.state == "tql" and lead.team_id in field_teams and lead.responsible == "sales"
    tql_handoff = Handoff.objects.get(lead=lead, status="open")
    assert tql_handoff.stage == "tql" and tql_handoff.team_id == lead.team_id
    assert tql_handoff.due_at - tql_handoff.opened_at == timedelta(hours=24)

    field = api(lead.owner)
    r = field.post(f"/api/v1/leads/{lead.pk}/transitions/reject/", {"reason": "engaged"},
                   format="json")  # fmt: skip
    assert r.status_code == 400, "a TQL is sent back with a TQL criterion"
    r = field.post(f"/api/v1/leads/{lead.pk}/transitions/reject/", {"reason": "budget"},
                   format="json")  # fmt: skip
    assert r.status_code == 200, r.content
    lead = Lead.objects.get(pk=lead.pk)
    assert (lead.state, lead.owner_id, lead.team_id) == ("tal", is_rep.pk, is_team.pk), (
        "back to the IS rep who qualified it"
    )
    assert Handoff.objects.get(pk=tql_handoff.pk).status == "rejected"

    r = api(is_rep).post(f"/api/v1/leads/{lead.pk}/transitions/qualify_tql/", {}, format="json")
    assert r.status_code == 200
    lead = Lead.objects.get(pk=lead.pk)
    r = api(lead.owner).post(f"/api/v1/leads/{lead.pk}/transitions/accept/", {}, format="json")
    assert r.status_code == 200, r.content
    lead = Lead.objects.get(pk=lead.pk)
    assert (lead.state, lead.lane, lead.responsible) == ("sal", "mgl", "sales")
    path = list(LeadTransition.objects.filter(lead=lead).order_by("id")
                .values_list("transition", "to_state"))  # fmt: skip
    assert path == [
        ("qualify_mql", "mql"), ("is_accept", "tal"), ("qualify_tql", "tql"),
        ("reject", "tal"), ("qualify_tql", "tql"), ("accept", "sal"),
    ]  # fmt: skip


def test_an_is_rep_disqualifies_a_tal_with_a_reason(
    users: Any, inside_sales: dict[str, Any]
) -> None:
    lead = an_mql()
    rep = Lead.objects.get(pk=lead.pk).owner
    api(rep).post(f"/api/v1/leads/{lead.pk}/transitions/is_accept/", {}, format="json")
    r = api(rep).post(f"/api/v1/leads/{lead.pk}/transitions/is_disqualify/", {}, format="json")
    assert r.status_code == 400
    r = api(rep).post(f"/api/v1/leads/{lead.pk}/transitions/is_disqualify/",
                      {"reason": "unreachable"}, format="json")  # fmt: skip
    assert r.status_code == 200
    lead = Lead.objects.get(pk=lead.pk)
    assert (lead.state, lead.owner_id, lead.recycle_reason) == ("recycled", None, "unreachable")


@pytest.mark.usefixtures("eager_tasks")
def test_a_tal_left_past_its_sla_is_breached_and_escalated_to_the_is_manager(
    users: Any, inside_sales: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    for u in [*users.values(), inside_sales["is_rep"], inside_sales["is_rep2"],
              inside_sales["is_manager"]]:  # fmt: skip
        u.email = f"{u.username}@example.jp"
        u.save()
    with django_capture_on_commit_callbacks(execute=True):
        lead = an_mql()
    rep = Lead.objects.get(pk=lead.pk).owner
    assert [m.to for m in mail.outbox] == [[rep.email]], "the IS rep hears of the new MQL"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        lead_transition(lead_id=lead.pk, name="is_accept", actor=rep)
    assert mail.outbox == [], "no notice of a TAL one took oneself"
    h = Handoff.objects.get(lead=lead, status="open")
    assert (h.stage, h.assignee_id, h.due_at - h.opened_at) == ("tal", rep.pk, timedelta(hours=72))
    inbox = api(rep).get("/api/v1/handoffs/?status=open").json()
    assert [row["stage"] for row in inbox["results"]] == ["tal"]
    mail.outbox.clear()
    with (
        time_machine.travel(h.due_at + timedelta(minutes=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert handoff_sla_sweep()["breached"] == 1
        assert handoff_sla_sweep()["breached"] == 0, "a breach is marked once"
    assert [m.to for m in mail.outbox] == [[inside_sales["is_manager"].email]]
    assert "TAL" in mail.outbox[0].body
    # Qualifying the late TAL closes it (not an accept or a reject: no answer figure counts it).
    lead_transition(lead_id=lead.pk, name="is_disqualify", actor=rep,
                    args=TransitionArgs(reason="unreachable"))  # fmt: skip
    h.refresh_from_db()
    assert (h.status, h.breached_at is not None) == ("closed", True)
    report = api(users["coo"]).get("/api/v1/reports/handoffs/").json()
    assert sum(t["total"] for t in report["teams"]) == 1, "the mql handoff only"


def test_an_is_rep_claims_the_lead_they_generated_as_a_tgl(
    users: Any, inside_sales: dict[str, Any]
) -> None:
    rep = inside_sales["is_rep"]
    r = api(rep).post("/api/v1/intake/", {"email": "tgl@example.jp", "company": "架電先 KK",
                                          "source": "inside_sales_generated"}, format="json")  # fmt: skip
    assert r.status_code == 201, r.content
    lead_id = r.json()["id"]
    r = api(rep).post(f"/api/v1/leads/{lead_id}/transitions/is_claim/", {}, format="json")
    assert r.status_code == 200, r.content
    lead = Lead.objects.get(pk=lead_id)
    assert (lead.state, lead.lane, lead.owner_id) == ("tal", "tgl", rep.pk)
    plain = make_lead(email="plain@example.jp")
    r = api(rep).post(f"/api/v1/leads/{plain.pk}/transitions/is_claim/", {}, format="json")
    assert r.status_code in (404, 409)


def test_an_activity_needs_someone_who_works_the_lead(
    users: Any, inside_sales: dict[str, Any]
) -> None:
    lead = an_mql()
    url = f"/api/v1/leads/{lead.pk}/activities/"
    call = {"kind": "call", "outcome": "connected"}
    assert api(users["marketing"]).post(url, call, format="json").status_code == 403
    assert api(users["rep_a"]).post(url, call, format="json").status_code == 404
    rep = Lead.objects.get(pk=lead.pk).owner
    api(rep).post(f"/api/v1/leads/{lead.pk}/transitions/is_accept/", {}, format="json")
    bad = api(rep).post(url, {"kind": "call", "outcome": "great"}, format="json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "outcome"
    future = {**call, "occurred_at": (timezone.now() + timedelta(days=1)).isoformat()}
    assert api(rep).post(url, future, format="json").status_code == 400
    assert api(rep).post(url, call, format="json").status_code == 201
    assert Event.objects.filter(lead=lead, type="activity.call").count() == 1


def test_leads_in_tal_and_tql_finish_after_a_definition_without_is_is_published(
    users: Any, inside_sales: dict[str, Any]
) -> None:
    heard = {"budget": "3000000", "timeline": timezone.localdate() + timedelta(days=60)}
    in_tal, in_tql = an_mql(**heard), an_mql(**heard)
    for lead in (in_tal, in_tql):
        rep = Lead.objects.get(pk=lead.pk).owner
        lead_transition(lead_id=lead.pk, name="is_accept", actor=rep)
    lead_transition(
        lead_id=in_tql.pk, name="qualify_tql", actor=Lead.objects.get(pk=in_tql.pk).owner
    )
    plain = definition_create(name="Without IS", document=definition_document(), actor=users["coo"])
    definition_publish(definition_id=plain.pk)

    lead_transition(
        lead_id=in_tal.pk, name="qualify_tql", actor=Lead.objects.get(pk=in_tal.pk).owner
    )
    for lead in (in_tal, in_tql):
        field_rep = Lead.objects.get(pk=lead.pk).owner
        assert lead_transition(lead_id=lead.pk, name="accept", actor=field_rep).state == "sal"
    fresh = an_mql()
    assert Lead.objects.get(pk=fresh.pk).responsible == "sales", "new MQLs go to field sales"
    assert Handoff.objects.get(lead=fresh, status="open").team.function == "sales"


def test_the_backtest_of_an_is_draft_counts_what_inside_sales_heard(
    users: Any, inside_sales: dict[str, Any]
) -> None:
    """SPEC §3/§13: of a draft's would-be MQLs, the ones IS worked and whose fields meet the
    draft's TQL criteria; a TGL never goes through MQL, so it never enters a draft."""
    from analytics.backtest import backtest
    from analytics.periods import period_from

    heard = {"budget": "3000000", "timeline": timezone.localdate() + timedelta(days=60)}
    ready, unheard = an_mql(**heard), an_mql()
    for lead in (ready, unheard):
        lead_transition(lead_id=lead.pk, name="is_accept", actor=Lead.objects.get(pk=lead.pk).owner)
    lead_transition(lead_id=ready.pk, name="qualify_tql", actor=Lead.objects.get(pk=ready.pk).owner)
    rep = inside_sales["is_rep"]
    tgl = lead_intake(fields={"email": "tgl@example.jp", "company": "架電先 KK", "industry": "software",
                              "phone": "0312345678", "title": "部長",
                              "source": "inside_sales_generated"}, actor=rep).lead  # fmt: skip
    give_events(tgl, "quote_request")
    lead_transition(lead_id=tgl.pk, name="is_claim", actor=rep)
    doc = inside_sales_document()
    doc["stages"]["mql"]["criteria"] = [  # no engagement rules here: the criteria that replay
        c for c in doc["stages"]["mql"]["criteria"] if c["code"] != "engaged"
    ]
    draft = definition_create(name="IS draft", document=doc, actor=users["coo"])
    result = backtest(definition=draft, period=period_from({}))
    assert {ready.pk, unheard.pk} <= {int(k) for k in result["first_qualified_at"]}
    assert str(tgl.pk) not in result["first_qualified_at"]
    assert (result["draft"]["tqls"], result["draft"]["tqls_passing"]) == (1, 1)
    plain = definition_create(name="plain", document=definition_document(), actor=users["coo"])
    assert backtest(definition=plain, period=period_from({}))["draft"]["tqls_passing"] is None


# --- races -----------------------------------------------------------------------------------------


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_is_accepts_one_wins(users: Any, inside_sales: dict[str, Any]) -> None:
    lead = an_mql()
    callers = [inside_sales["is_rep"], inside_sales["is_rep2"], inside_sales["is_manager"]]
    Lead.objects.filter(pk=lead.pk).update(owner=None)  # the team's, so each caller may

    def is_accept(i: int) -> int:
        r = api(callers[i % 3]).post(f"/api/v1/leads/{lead.pk}/transitions/is_accept/", {},
                                     format="json")  # fmt: skip
        return r.status_code

    assert Counter(run_parallel(50, is_accept)) == {200: 1, 409: 49}
    assert LeadTransition.objects.filter(lead=lead, transition="is_accept").count() == 1


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_qualify_tql_and_is_disqualify_at_once_one_wins(
    users: Any, inside_sales: dict[str, Any]
) -> None:
    heard = {"budget": "3000000", "timeline": timezone.localdate() + timedelta(days=60)}
    lead = an_mql(**heard)
    rep = Lead.objects.get(pk=lead.pk).owner
    lead_transition(lead_id=lead.pk, name="is_accept", actor=rep)
    calls = [("qualify_tql", {}), ("is_disqualify", {"reason": "no_need"})] * 10

    def move(i: int) -> tuple[str, int]:
        name, body = calls[i]
        r = api(rep).post(f"/api/v1/leads/{lead.pk}/transitions/{name}/", body, format="json")
        return name, r.status_code

    results = run_parallel(20, move)
    assert sum(1 for _, code in results if code == 200) == 1
    # The others find it moved on (409), or gone from the rep's hands to field sales or back to
    # marketing (404).
    assert all(code in (200, 404, 409) for _, code in results), results
    assert LeadTransition.objects.filter(lead=lead).exclude(
        transition__in=["qualify_mql", "is_accept"]
    ).count() == 1  # fmt: skip


def test_assignment_stays_within_the_function_owning_the_stage(
    users: Any, inside_sales: dict[str, Any]
) -> None:
    """A rule naming a field team routes TQLs, never the MQLs inside sales answers; round-robin
    over inside sales takes its reps in turn."""
    from handoff.models import AssignmentRule

    team_b = Team.objects.get(name="Team B")
    AssignmentRule.objects.create(position=1, name="Software to B", field="industry",
                                  operator="equals", values=["software"], team=team_b)  # fmt: skip
    heard = {"budget": "3000000", "timeline": timezone.localdate() + timedelta(days=60)}
    mqls = [an_mql(**heard) for _ in range(4)]
    owners = [Lead.objects.get(pk=lead.pk).owner_id for lead in mqls]
    is_reps = {inside_sales["is_rep"].pk, inside_sales["is_rep2"].pk}
    assert set(owners) == is_reps and Counter(owners) == {pk: 2 for pk in is_reps}
    lead = mqls[0]
    rep = Lead.objects.get(pk=lead.pk).owner
    lead_transition(lead_id=lead.pk, name="is_accept", actor=rep)
    lead = lead_transition(lead_id=lead.pk, name="qualify_tql", actor=rep)
    assert lead.team_id == team_b.pk and lead.owner_id == users["rep_b"].pk


def test_the_lanes_of_leads_from_before_lanes_are_filled_from_their_history(
    users: Any, published_definition: Any
) -> None:
    """Migration 0016: a lead's lane from the first move of its history into the line."""
    import importlib

    from django.db import connection

    backfill = importlib.import_module("leads.migrations.0016_lead_lane_backfill").BACKFILL
    mql = an_mql()
    sgl = lead_intake(fields={"email": "sgl@example.jp", "source": "sales_generated"},
                      actor=users["rep_a"]).lead  # fmt: skip
    lead_transition(lead_id=sgl.pk, name="claim", actor=users["rep_a"])
    untouched = make_lead(email="new@example.jp")
    Lead.objects.update(lane="")
    with connection.cursor() as cursor:
        cursor.execute(backfill)
    lanes = dict(Lead.objects.values_list("pk", "lane"))
    assert (lanes[mql.pk], lanes[sgl.pk], lanes[untouched.pk]) == ("mgl", "sgl", "")


def test_stage_entries_from_before_lanes_take_their_leads_lane_and_send_backs(
    users: Any, inside_sales: dict[str, Any]
) -> None:
    """Migration 0017: every entry takes its lead's lane, and a TQL sent back re-enters tal;
    what the migration writes is what the live path writes."""
    import importlib

    from django.db import connection

    from leads.models import StageEntry

    migration = importlib.import_module("leads.migrations.0017_stage_lanes")
    heard = {"budget": "3000000", "timeline": timezone.localdate() + timedelta(days=60)}
    lead = an_mql(**heard)
    lead_transition(lead_id=lead.pk, name="is_accept", actor=Lead.objects.get(pk=lead.pk).owner)
    is_rep = Lead.objects.get(pk=lead.pk).owner
    lead_transition(lead_id=lead.pk, name="qualify_tql", actor=is_rep)
    lead_transition(lead_id=lead.pk, name="reject", actor=Lead.objects.get(pk=lead.pk).owner,
                    args=TransitionArgs(reason="budget"))  # fmt: skip
    fields = ("stage", "reentry", "lane")
    live = list(
        StageEntry.objects.filter(lead=lead).order_by("entered_at", "id").values_list(*fields)
    )
    assert live == [("lead", False, "mgl"), ("mql", False, "mgl"), ("tal", False, "mgl"),
                    ("tql", False, "mgl"), ("tal", True, "mgl")]  # fmt: skip
    StageEntry.objects.update(lane="", reentry=False)
    with connection.cursor() as cursor:
        cursor.execute(migration.LANES)
        cursor.execute(migration.SENT_BACK)
    assert list(StageEntry.objects.filter(lead=lead).order_by("entered_at", "id")
                .values_list(*fields)) == live  # fmt: skip


def test_the_web_pages_show_an_is_lead_and_its_transitions(
    users: Any, inside_sales: dict[str, Any]
) -> None:
    """The lead page and the lead list, as the IS rep and as the COO, for an MQL, a TAL and a
    TQL: the IS transitions are offered where they apply, field sales' `accept` is not offered
    for an MQL inside sales answers, and a TQL is sent back with the TQL criteria as reasons."""
    from django.test import Client

    heard = {"budget": "3000000", "timeline": timezone.localdate() + timedelta(days=60)}
    mql, tal, tql = an_mql(**heard), an_mql(**heard), an_mql(**heard)
    for lead in (tal, tql):
        lead_transition(lead_id=lead.pk, name="is_accept", actor=Lead.objects.get(pk=lead.pk).owner)
    lead_transition(lead_id=tql.pk, name="qualify_tql", actor=Lead.objects.get(pk=tql.pk).owner)

    def pages(who: Any) -> dict[int, str]:
        browser = Client()
        browser.force_login(who)
        out = {}
        for lead in (mql, tal, tql):
            page = browser.get(f"/leads/{lead.pk}/")
            out[lead.pk] = page.content.decode() if page.status_code == 200 else ""
        assert browser.get("/leads/?state=tal").status_code == 200
        return out

    assert all(pages(users["coo"]).values()), "the COO reads every one"
    manager = pages(inside_sales["is_manager"])
    assert 'class="transition-is_accept"' in manager[mql.pk]
    assert 'class="transition-accept"' not in manager[mql.pk]
    assert 'class="transition-qualify_tql"' in manager[tal.pk]
    assert 'class="transition-is_disqualify"' in manager[tal.pk]
    assert manager[tql.pk] == "", "a TQL is field sales' now"
    field = pages(Lead.objects.get(pk=tql.pk).owner)
    assert field[mql.pk] == field[tal.pk] == "", "field sales reads a lead from tql on"
    assert 'class="transition-accept"' in field[tql.pk]
    assert 'class="transition-reject"' in field[tql.pk] and 'value="budget"' in field[tql.pk]
