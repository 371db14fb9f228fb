"""Backtest: loosening a threshold adds exactly the leads expected; tightening removes them."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from analytics.backtest import backtest
from analytics.periods import Period
from leadflow.models import Job
from leads.models import Definition, Event, Lead
from leads.services.definitions import definition_create
from leads.services.intake import lead_intake
from leads.services.transitions import lead_transition
from scoring.services import score_leads
from tests.factories import LeadFieldsFactory, make_lead

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
PERIOD = Period(T0 - timedelta(days=1), T0 + timedelta(days=60))
# Per lead: the days (after T0) of its events; quote_request 8 points, document_download 5.
PLANS = {
    "a": [("document_download", 1), ("quote_request", 2)],  # 13
    "b": [("document_download", 1), ("quote_request", 2), ("quote_request", 3)],  # 21 on day 3
    "c": [
        ("document_download", 1),
        ("quote_request", 2),
        ("quote_request", 3),
        ("quote_request", 9),
    ],  # 29 on day 9
    "d": [
        ("quote_request", 1),
        ("quote_request", 2),
        ("quote_request", 3),
        ("quote_request", 4),
    ],  # 32 on day 4
}


def draft(coo: Any, threshold: int) -> Definition:
    doc = copy.deepcopy(Definition.objects.get(status="published").document)
    doc["stages"]["mql"]["criteria"][0]["params"]["value"] = threshold
    return definition_create(name=f"engaged ≥ {threshold}", document=doc, actor=coo)


@pytest.fixture
def replayed(users: Any, published_definition: Any) -> dict[str, Lead]:
    """Four leads; the published definition (engagement ≥ 20) really qualified b, c and d."""
    leads = {}
    for name, plan in PLANS.items():
        with time_machine.travel(T0, tick=False):
            lead = make_lead(email=f"{name}@acme.co.jp", industry="software")
        for etype, day in plan:
            Event.objects.create(lead=lead, type=etype, occurred_at=T0 + timedelta(days=day))
        leads[name] = lead
    for name, day in (("b", 3), ("c", 9), ("d", 4)):
        with time_machine.travel(T0 + timedelta(days=day, hours=1), tick=False):
            score_leads(lead_ids=[leads[name].pk])
            assert Lead.objects.get(pk=leads[name].pk).state == "mql", name
    with time_machine.travel(T0 + timedelta(days=5), tick=False):
        score_leads(lead_ids=[leads["a"].pk])
        assert Lead.objects.get(pk=leads["a"].pk).state == "lead", "13 points: not an MQL"
        d = leads["d"]
        lead_transition(
            lead_id=d.pk,
            name="accept",
            actor=users["rep_a"]
            if d.owner_id == users["rep_a"].pk
            else Lead.objects.get(pk=d.pk).owner,
        )
    return {k: Lead.objects.get(pk=v.pk) for k, v in leads.items()}


def ids(leads: dict[str, Lead], names: str) -> list[int]:
    return sorted(leads[n].pk for n in names)


def test_same_threshold_changes_nothing(replayed: dict[str, Lead], users: Any) -> None:
    result = backtest(definition=draft(users["coo"], 20), period=PERIOD)
    assert result["draft"]["mqls"] == result["published"]["mqls"] == 3
    assert (result["entering"], result["leaving"]) == ([], [])


def test_loosening_adds_exactly_the_leads_expected(replayed: dict[str, Lead], users: Any) -> None:
    result = backtest(definition=draft(users["coo"], 10), period=PERIOD)
    assert result["entering"] == ids(replayed, "a") and result["leaving"] == []
    assert result["draft"]["mqls"] == 4
    assert (
        result["first_qualified_at"][str(replayed["a"].pk)] == (T0 + timedelta(days=2)).isoformat()
    )


def test_tightening_removes_them(replayed: dict[str, Lead], users: Any) -> None:
    result = backtest(definition=draft(users["coo"], 30), period=PERIOD)
    assert result["entering"] == [] and result["leaving"] == ids(replayed, "bc")
    assert result["draft"]["mqls"] == 1
    assert result["first_qualified_at"] == {
        str(replayed["d"].pk): (T0 + timedelta(days=4)).isoformat()
    }


def test_a_sales_generated_lead_never_enters_a_stricter_draft(
    replayed: dict[str, Lead], users: Any
) -> None:
    """An SGL claimed by sales is not an MQL under any definition: a stricter draft can only
    drop leads, never add one."""
    with time_machine.travel(T0, tick=False):
        sgl = lead_intake(
            fields=LeadFieldsFactory(email="sgl@acme.co.jp", source="sales_generated"),
            actor=users["rep_a"],
        ).lead
    for day in (1, 2, 3, 4):
        Event.objects.create(lead=sgl, type="quote_request", occurred_at=T0 + timedelta(days=day))
    with time_machine.travel(T0 + timedelta(days=5), tick=False):
        lead_transition(lead_id=sgl.pk, name="claim", actor=users["rep_a"])
    result = backtest(definition=draft(users["coo"], 25), period=PERIOD)
    assert sgl.pk not in result["entering"] and result["entering"] == []
    assert result["draft"]["mqls"] <= result["published"]["mqls"]


@pytest.mark.usefixtures("eager_tasks")
def test_backtest_endpoint_runs_a_job(
    replayed: dict[str, Lead], users: Any, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    d = draft(users["coo"], 10)
    with django_capture_on_commit_callbacks(execute=True):
        r = client_for("coo").post(
            f"/api/v1/definitions/{d.pk}/backtest/",
            {"from": "2026-09-30", "to": "2026-11-30"},
            format="json",
        )
    assert r.status_code == 202
    job = Job.objects.get(pk=r.json()["id"])
    assert job.status == "succeeded" and job.progress == 1.0
    assert job.result["entering"] == ids(replayed, "a")
    assert client_for("coo").get(f"/api/v1/jobs/{job.pk}/").json()["result"]["draft"]["mqls"] == 4
    assert (
        client_for("marketing")
        .post(f"/api/v1/definitions/{d.pk}/backtest/", {}, format="json")
        .status_code
        == 403
    )
