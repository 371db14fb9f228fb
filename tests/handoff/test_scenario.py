"""The whole line through the API, on PostgreSQL with a real Celery worker on Redis."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from handoff.models import Handoff
from leads.models import Lead, LeadTransition
from tests.conftest import requires_worker, wait_for

pytestmark = [
    requires_worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("default_rules"),
]


def client_of(user: Any) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def engage(key_client: APIClient, lead_id: int, tag: str) -> None:
    events = [{"lead": lead_id, "id": f"{tag}-{i}", **e} for i, e in enumerate([
        {"type": "page_view", "properties": {"url": "/features/sso"}},
        {"type": "document_download"}, {"type": "quote_request"}, {"type": "quote_request"},
    ])]  # fmt: skip
    assert key_client.post("/api/v1/events/", events, format="json").json()["accepted"] == 4


def test_intake_to_won_with_a_rejection_and_a_recycle(
    celery_worker: Any, users: Any, published_definition: Any, intake_key: str
) -> None:
    key = APIClient()
    key.credentials(HTTP_AUTHORIZATION=f"Api-Key {intake_key}")
    r = key.post("/api/v1/intake/", {"email": "cto@acme.co.jp", "company": "Acme", "phone": "03-1234-5678",
                                     "title": "CTO", "industry": "software", "source": "seminar"}, format="json")  # fmt: skip
    lead_id = r.json()["id"]
    engage(key, lead_id, "first")
    wait_for(lambda: Lead.objects.get(pk=lead_id).state == "mql", what="the automatic MQL")
    first = Handoff.objects.get(lead_id=lead_id)
    assert first.assignee is not None and first.status == "open"
    rep = first.assignee
    inbox = client_of(rep).get("/api/v1/handoffs/?assignee=me&status=open").json()["results"]
    assert [h["lead"]["id"] for h in inbox] == [lead_id]

    r = client_of(rep).post(
        f"/api/v1/leads/{lead_id}/transitions/reject/",
        {"reason": "need", "note": "No project this year"},
        format="json",
    )
    assert r.status_code == 200 and r.json()["state"] == "recycled"
    # The cool-off passes (30 days in the definition): the lead may re-enter.
    Lead.objects.filter(pk=lead_id).update(recyclable_at=timezone.now() - timedelta(minutes=1))
    engage(key, lead_id, "second")
    wait_for(lambda: Lead.objects.get(pk=lead_id).state == "mql", what="the second MQL")
    assert Lead.objects.get(pk=lead_id).recycle_count == 1
    second = Handoff.objects.get(lead_id=lead_id, status="open")
    rep2 = second.assignee
    assert (
        client_of(rep2)
        .post(f"/api/v1/leads/{lead_id}/transitions/accept/", {}, format="json")
        .json()["state"]
        == "sal"
    )

    r = client_of(rep2).post(f"/api/v1/leads/{lead_id}/transitions/qualify_sql/", {}, format="json")
    assert r.status_code == 409
    assert {c["code"] for c in r.json()["criteria"] if not c["passed"]} == {
        "decision_maker",
        "budget",
        "timeline",
    }
    timeline = (timezone.now() + timedelta(days=60)).date().isoformat()
    r = client_of(rep2).patch(
        f"/api/v1/leads/{lead_id}/",
        {"decision_maker": True, "budget": "4800000", "timeline": timeline},
        format="json",
    )
    assert r.status_code == 200
    assert (
        client_of(rep2)
        .post(f"/api/v1/leads/{lead_id}/transitions/qualify_sql/", {}, format="json")
        .json()["state"]
        == "sql"
    )
    r = client_of(rep2).post(
        f"/api/v1/leads/{lead_id}/transitions/win/", {"amount": "4800000"}, format="json"
    )
    assert (
        r.status_code == 200 and r.json()["state"] == "won" and r.json()["won_amount"] == 4800000.0
    )

    story = list(LeadTransition.objects.filter(lead_id=lead_id).order_by("occurred_at", "id"))
    assert [(t.transition, t.from_state, t.to_state, t.actor_kind) for t in story] == [
        ("qualify_mql", "lead", "mql", "system"),
        ("reject", "mql", "recycled", "user"),
        ("qualify_mql", "recycled", "mql", "system"),
        ("accept", "mql", "sal", "user"),
        ("qualify_sql", "sal", "sql", "user"),
        ("win", "sql", "won", "user"),
    ]
    assert story[1].reason == "need" and story[1].actor == rep
    assert story[0].owner_after == rep and story[2].owner_after == rep2
    assert all(c["passed"] for c in story[4].evaluation) and story[5].amount == 4800000
    assert [h.status for h in Handoff.objects.filter(lead_id=lead_id).order_by("id")] == [
        "rejected",
        "accepted",
    ]
    timeline_api = (
        client_of(users["coo"]).get(f"/api/v1/leads/{lead_id}/timeline/").json()["results"]
    )
    assert (
        next(i["transition"]["transition"] for i in timeline_api if i["kind"] == "transition")
        == "win"
    )
