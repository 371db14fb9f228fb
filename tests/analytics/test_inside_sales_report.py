"""The inside-sales report (SPEC §13) against an independent count over a generated history: a
plain walk over every handoff, event and history row in Python, per rep and per team."""

from __future__ import annotations

import random
import statistics
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import TeamMembership
from accounts.services import user_add
from handoff.models import Handoff
from leads.models import Event, Lead, LeadTransition
from leads.services.activities import activity_log
from leads.services.transitions import TransitionArgs, lead_transition
from tests.factories import give_events, make_lead, set_engagement

pytestmark = pytest.mark.django_db
OUTCOMES = ["no_answer", "voicemail", "connected", "connected", "meeting_set", "not_interested"]


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def owner(lead_id: int) -> Any:
    return Lead.objects.get(pk=lead_id).owner


def generate(seed: int, n: int) -> None:
    """`n` MQLs a quarter of an hour apart, each walked at random through inside sales: rejected,
    left alone, or accepted and called (at random delays), then qualified or disqualified; field
    sales accepts or sends back the TQLs; some accepted ones are won."""
    rng = random.Random(seed)
    start = timezone.now() - timedelta(days=20)
    heard = {"budget": "1000000", "decision_maker": True,
             "timeline": timezone.localdate() + timedelta(days=40)}  # fmt: skip
    for i in range(n):
        at = start + timedelta(minutes=15 * i)
        with time_machine.travel(at, tick=False):
            lead = make_lead(email=f"is{i}@example.jp", **heard)
            set_engagement(lead, 30)
            give_events(lead, "quote_request")
            lead_transition(lead_id=lead.pk, name="qualify_mql", actor=None)
        fate = rng.random()
        later = at + timedelta(minutes=rng.choice([5, 30, 59, 61, 180, 600]))
        if fate < 0.15:
            with time_machine.travel(later, tick=False):
                lead_transition(lead_id=lead.pk, name="reject", actor=owner(lead.pk),
                                args=TransitionArgs(reason=rng.choice(["icp", "need"])))  # fmt: skip
            continue
        if fate < 0.25:
            continue  # still waiting in the IS inbox
        with time_machine.travel(later, tick=False):
            lead_transition(lead_id=lead.pk, name="is_accept", actor=owner(lead.pk))
        rep = owner(lead.pk)
        t = later
        for _ in range(rng.randint(0 if fate < 0.35 else 1, 3)):
            t += timedelta(minutes=rng.randint(0, 90))
            with time_machine.travel(t, tick=False):
                activity_log(lead_id=lead.pk, actor=rep, kind=rng.choice(["call", "call", "email"]),
                             outcome=rng.choice(OUTCOMES))  # fmt: skip
        t += timedelta(hours=1)
        with time_machine.travel(t, tick=False):
            if fate < 0.4:
                lead_transition(lead_id=lead.pk, name="is_disqualify", actor=rep,
                                args=TransitionArgs(reason="unreachable"))  # fmt: skip
                continue
            lead_transition(lead_id=lead.pk, name="qualify_tql", actor=rep)
        t += timedelta(hours=2)
        with time_machine.travel(t, tick=False):
            if rng.random() < 0.3:
                lead_transition(lead_id=lead.pk, name="reject", actor=owner(lead.pk),
                                args=TransitionArgs(reason="budget"))  # fmt: skip
                if rng.random() < 0.5:
                    continue  # back in tal
                lead_transition(lead_id=lead.pk, name="qualify_tql", actor=rep)
            if rng.random() < 0.2:
                continue  # field sales has not answered yet
            field = owner(lead.pk)
            lead_transition(lead_id=lead.pk, name="accept", actor=field)
        if rng.random() < 0.5:
            t += timedelta(days=1)
            with time_machine.travel(t, tick=False):
                lead_transition(lead_id=lead.pk, name="qualify_sql", actor=field)
                lead_transition(lead_id=lead.pk, name="win", actor=field,
                                args=TransitionArgs(amount=Decimal(rng.randint(1, 90) * 10_000)))  # fmt: skip


def expected(reps_in_scope: set[int] | None) -> dict[tuple[Any, Any], dict[str, Any]]:
    """Each figure by walking the rows one by one (no grouping in the database)."""
    is_team = {
        m.user_id: m.team_id
        for m in TeamMembership.objects.filter(team__function="inside_sales", role="rep")
    }
    activities = list(Event.objects.filter(type__startswith="activity.").order_by("occurred_at"))
    out: dict[tuple[Any, Any], dict[str, Any]] = defaultdict(lambda: {
        "mqls_received": 0, "accepted": 0, "rejected": 0, "reasons": Counter(), "waits": [],
        "activities": 0, "calls": 0, "connected": 0, "tqls": 0, "before": 0,
        "tqls_accepted": 0, "tqls_rejected": 0, "tql_reasons": Counter(), "won": Decimal(0),
    })  # fmt: skip

    def seen(rep: int | None) -> bool:
        return reps_in_scope is None or rep in reps_in_scope

    for h in Handoff.objects.all():
        if h.stage == "mql" and h.team.function == "inside_sales" and seen(h.assignee_id):
            f = out[(h.team_id, h.assignee_id)]
            f["mqls_received"] += 1
            f["accepted"] += h.status == "accepted"
            f["rejected"] += h.status == "rejected"
            if h.status == "rejected":
                f["reasons"][h.reason] += 1
            touches = [e.occurred_at for e in activities if e.lead_id == h.lead_id
                       and e.properties["actor"] == h.assignee_id and e.occurred_at >= h.opened_at]  # fmt: skip
            if touches:
                f["waits"].append((touches[0] - h.opened_at).total_seconds())
        if h.stage == "tql":
            q = LeadTransition.objects.get(pk=h.qualification_id)
            if not seen(q.actor_id):
                continue
            f = out[(q.team_before_id, q.actor_id)]
            f["tqls"] += 1
            f["before"] += sum(1 for e in activities
                               if e.lead_id == h.lead_id and e.occurred_at < h.opened_at)  # fmt: skip
            f["tqls_accepted"] += h.status == "accepted"
            f["tqls_rejected"] += h.status == "rejected"
            if h.status == "rejected":
                f["tql_reasons"][h.reason] += 1
            if h.status == "accepted" and h.lead.state == "won":
                win = LeadTransition.objects.filter(lead_id=h.lead_id, transition="win").last()
                f["won"] += win.amount if win else 0
    for e in activities:
        actor = e.properties["actor"]
        if not seen(actor):
            continue
        f = out[(is_team.get(actor), actor)]
        f["activities"] += 1
        if e.type == "activity.call":
            f["calls"] += 1
            f["connected"] += e.properties["outcome"] == "connected"
    return out


def check(report: dict[str, Any], want: dict[tuple[Any, Any], dict[str, Any]]) -> None:
    got = {(r["team"], r["rep"]): r for r in report["reps"]}
    assert set(got) == set(want)
    for key, w in want.items():
        r = got[key]
        assert (r["mqls_received"], r["accepted"], r["rejected"]) == (
            w["mqls_received"], w["accepted"], w["rejected"]
        ), key  # fmt: skip
        assert r["rejections_by_criterion"] == dict(w["reasons"])
        speed = r["speed_to_lead"]
        assert speed["touched"] == len(w["waits"])
        within = sum(1 for s in w["waits"] if s <= 3600)
        assert speed["share_within_1h"] == (
            round(within / w["mqls_received"], 4) if w["mqls_received"] else None
        )
        for name, q in (("median_hours", 0.5), ("p80_hours", 0.8)):
            if not w["waits"]:
                assert speed[name] is None
                continue
            exact = (statistics.quantiles(w["waits"], n=10, method="inclusive")[int(q * 10) - 1]
                     if len(w["waits"]) > 1 else w["waits"][0]) / 3600  # fmt: skip
            assert speed[name] == pytest.approx(exact, rel=0.021, abs=0.006), (key, name)
        assert (r["activities"], r["calls"]) == (w["activities"], w["calls"])
        assert r["connect_rate"] == (round(w["connected"] / w["calls"], 4) if w["calls"] else None)
        assert (r["tqls"], r["tqls_accepted"], r["tqls_rejected"]) == (
            w["tqls"], w["tqls_accepted"], w["tqls_rejected"]
        ), key  # fmt: skip
        assert r["tql_rejections_by_criterion"] == dict(w["tql_reasons"])
        assert r["activities_per_tql"] == (round(w["before"] / w["tqls"], 4) if w["tqls"] else None)
        assert r["tql_rate"] == (round(w["tqls"] / w["accepted"], 4) if w["accepted"] else None)
        assert Decimal(r["won_revenue"]) == w["won"]
    # The team rows are the sums of their reps'.
    for team in report["teams"]:
        reps = [r for r in report["reps"] if r["team"] == team["team"]]
        for name in ("mqls_received", "tqls", "activities", "calls", "tqls_rejected"):
            assert team[name] == sum(r[name] for r in reps)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_inside_sales_report_equals_an_independent_count(
    users: Any, inside_sales: dict[str, Any], seed: int
) -> None:
    user_add(username="ota", role="inside_sales", team="IS Osaka")
    user_add(username="oda", role="sales_manager", team="IS Osaka")
    generate(seed, 36)
    assert Event.objects.filter(type="activity.call").exists()
    assert Handoff.objects.filter(stage="tql", status="rejected").exists()
    assert LeadTransition.objects.filter(transition="win").exists()
    url = "/api/v1/reports/inside-sales/?from=" + str(timezone.localdate() - timedelta(days=30))
    check(api(users["coo"]).get(url).json(), expected(None))

    rep = inside_sales["is_rep"]
    mine = api(rep).get(url).json()
    check(mine, expected({rep.pk}))
    assert {r["rep"] for r in mine["reps"]} == {rep.pk}

    tokyo = set(TeamMembership.objects.filter(team__name="IS Tokyo", role="rep")
                .values_list("user_id", flat=True))  # fmt: skip
    check(api(inside_sales["is_manager"]).get(url).json(), expected(tokyo))
    assert api(users["rep_a"]).get(url).json()["reps"] == [], "field sales has no IS figures"
    assert api(users["marketing"]).get(url).status_code == 200


def test_an_event_cannot_pose_as_an_activity(users: Any, inside_sales: dict[str, Any]) -> None:
    lead = make_lead(email="spoof@example.jp")
    r = APIClient()
    r.force_authenticate(users["marketing"])
    body = {"lead": lead.pk, "type": "activity.call", "properties": {"actor": 1}}
    response = r.post("/api/v1/events/", [body, {**body, "type": "call"}], format="json")
    assert response.status_code == 202
    [refused] = response.json()["rejected"]
    assert (refused["index"], refused["errors"][0]["code"]) == (0, "reserved")
    assert list(Event.objects.filter(lead=lead).values_list("type", flat=True)) == ["call"]
