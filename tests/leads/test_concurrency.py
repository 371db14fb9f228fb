"""Races on PostgreSQL with real threads and separate connections."""

from __future__ import annotations

import threading
import unicodedata
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connections
from rest_framework.test import APIClient

from accounts.models import Team
from leads.models import Lead, LeadTransition
from tests.conftest import requires_postgres
from tests.factories import make_mql

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def run_parallel(n: int, fn: Callable[[int], Any], workers: int | None = None) -> list[Any]:
    """Start `n` calls of `fn` as close together as threads allow; each closes its connection."""
    barrier = threading.Barrier(min(n, workers or n))

    def call(i: int) -> Any:
        try:
            if i < barrier.parties:
                barrier.wait(timeout=30)
            return fn(i)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers or n) as pool:
        return list(pool.map(call, range(n)))


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
