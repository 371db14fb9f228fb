"""Races on PostgreSQL with real threads and separate connections."""

from __future__ import annotations

import unicodedata
from collections import Counter
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import Team
from leads.models import Lead, LeadTransition
from tests.conftest import requires_postgres, run_parallel
from tests.factories import make_mql

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def test_twenty_concurrent_accepts_one_wins(
    users: dict[str, Any], published_definition: Any
) -> None:
    lead = make_mql(team=Team.objects.get(name="Team A"), owner=users["rep_a"])
    callers = [users["rep_a"], users["rep_a2"], users["manager_a"]]

    def accept(i: int) -> tuple[int, str]:
        client = APIClient()
        client.force_authenticate(callers[i % len(callers)])
        r = client.post(f"/api/v1/leads/{lead.pk}/transitions/accept/", {}, format="json")
        return r.status_code, r["Content-Type"]

    results = run_parallel(20, accept)
    statuses = Counter(code for code, _ in results)
    assert statuses == {200: 1, 409: 19}
    assert all(ct == "application/problem+json" for code, ct in results if code == 409)
    assert LeadTransition.objects.filter(lead=lead, transition="accept").count() == 1
    assert Lead.objects.get(pk=lead.pk).state == "sal"


def test_200_concurrent_intakes_over_20_spellings_make_20_leads(intake_key: str) -> None:
    bases = [f"person{i}@example.co.jp" for i in range(20)]
    spellings = []
    for b in bases:
        local, domain = b.split("@")
        spellings += [
            b, b.upper(), f"  {b} ", full_width(b), local.capitalize() + "@" + domain.upper(),
            full_width(b.upper()), f"\t{b.title()}", local + "＠" + domain, b.swapcase(), " " + full_width(local) + "@" + domain,
        ]  # fmt: skip
    assert len(spellings) == 200
    assert {unicodedata.normalize("NFKC", s).strip().lower() for s in spellings} == set(bases)

    def intake(i: int) -> int:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {intake_key}")
        r = client.post(
            "/api/v1/intake/", {"email": spellings[i], "company": f"c{i}"}, format="json"
        )
        return r.status_code

    codes = Counter(run_parallel(200, intake, workers=40))
    assert codes[201] == 20
    assert codes[200] == 180
    assert Lead.objects.count() == 20
    assert set(Lead.objects.values_list("email", flat=True)) == set(bases)


def test_50_concurrent_identical_intakes_with_one_key(intake_key: str) -> None:
    body = {"email": "same@example.jp", "company": "Acme", "events": [{"type": "page_view"}]}

    def intake(i: int) -> tuple[int, bytes]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {intake_key}")
        r = client.post("/api/v1/intake/", body, format="json", HTTP_IDEMPOTENCY_KEY="one-key")
        return r.status_code, r.content

    results = run_parallel(50, intake)
    assert {code for code, _ in results} == {201}
    assert len({content for _, content in results}) == 1
    assert Lead.objects.count() == 1
    assert Lead.objects.get().events.count() == 1


def test_concurrent_publishes_leave_exactly_one_published(users: dict[str, Any]) -> None:
    from leads.choices import DefinitionStatus
    from leads.models import Definition
    from tests.conftest import definition_document

    drafts = [
        Definition.objects.create(name=f"d{i}", document=definition_document()) for i in range(10)
    ]

    def publish(i: int) -> int:
        client = APIClient()
        client.force_authenticate(users["coo"])
        return client.post(f"/api/v1/definitions/{drafts[i].pk}/publish/").status_code

    codes = run_parallel(10, publish)
    assert set(codes) <= {200, 409}
    assert Definition.objects.filter(status=DefinitionStatus.PUBLISHED).count() == 1
    assert codes.count(200) == Definition.objects.exclude(status=DefinitionStatus.DRAFT).count()


def test_concurrent_overlapping_event_batches_store_each_event_once(
    intake_key: str, default_rules: Any
) -> None:
    """30 batches of 100 events over 3 leads, fired at once; every client id sits in three
    batches. Each event is stored once, the accepted counts add up to the events, and the
    scores are those of the events stored."""
    from leads.models import Event, LeadScore, RescoreMark
    from scoring.services import score_sweep

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {intake_key}")
    lead_ids = [
        client.post("/api/v1/intake/", {"email": f"b{i}@example.jp"}, format="json").json()["id"]
        for i in range(3)
    ]
    events = [
        {"lead": lead_ids[n % 3], "type": "quote_request", "id": f"race-{n}"} for n in range(1000)
    ]
    batches = [[events[(b * 100 + k) % 1000] for k in range(100)] for b in range(30)]

    def post(i: int) -> dict[str, Any]:
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Api-Key {intake_key}")
        r = c.post("/api/v1/events/", batches[i], format="json")
        assert r.status_code == 202, r.content
        return dict(r.json())

    results = run_parallel(30, post, workers=10)
    assert sum(r["accepted"] for r in results) == 1000
    assert sum(r["duplicates"] for r in results) == 2000
    assert Event.objects.filter(external_id__startswith="race-").count() == 1000
    score_sweep()  # the rescore the enqueues asked for, whatever reached the broker
    assert not RescoreMark.objects.filter(lead_id__in=lead_ids).exists()
    per_lead = Counter(n % 3 for n in range(1000))
    assert {
        lead_id: int(score)
        for lead_id, score in LeadScore.objects.filter(lead_id__in=lead_ids).values_list(
            "lead_id", "engagement"
        )
    } == {lead_ids[k]: 8 * per_lead[k] for k in range(3)}


def test_an_event_committed_during_a_rescore_keeps_its_mark(default_rules: Any) -> None:
    """The rescore deletes only the marks it can see and computes after that; an event whose
    transaction commits while it runs is not in its result, and its mark stays for the sweep."""
    import threading
    from datetime import UTC, datetime

    from django.db import connections, transaction

    from leads.models import Event, RescoreMark
    from leads.services.events import lead_score_mark
    from scoring import engine
    from scoring.services import score_sweep
    from tests.factories import make_lead

    at = datetime(2026, 11, 30, 12, tzinfo=UTC)
    lead = make_lead()
    Event.objects.create(lead=lead, type="quote_request", occurred_at=at)
    lead_score_mark([lead.pk])
    written, go = threading.Event(), threading.Event()

    def writer() -> None:
        try:
            with transaction.atomic():
                Event.objects.create(lead=lead, type="quote_request", occurred_at=at)
                lead_score_mark([lead.pk])
                written.set()
                assert go.wait(timeout=30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=writer)
    thread.start()
    assert written.wait(timeout=30)
    with transaction.atomic():
        assert engine.rescore(as_of=at, ids=[lead.pk]) == 1
    go.set()
    thread.join(timeout=30)
    assert Lead.objects.get(pk=lead.pk).engagement_score == 8  # the first event only
    assert RescoreMark.objects.filter(lead=lead).count() == 1  # the second event's mark
    score_sweep()
    assert Lead.objects.get(pk=lead.pk).engagement_score == 16
    assert not RescoreMark.objects.filter(lead=lead).exists()
