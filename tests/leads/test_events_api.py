"""POST /api/v1/events/: batches, per-item results, client-id dedupe."""

from __future__ import annotations

from collections import Counter
from typing import Any

from leads.models import Event, RescoreMark
from tests.factories import make_lead

URL = "/api/v1/events/"


def test_single_event_object(key_client: Any, db: Any) -> None:
    make_lead(email="one@example.jp")
    r = key_client.post(
        URL, {"email": "ONE@example.jp", "type": "page_view", "id": "x1"}, format="json"
    )
    assert r.status_code == 202
    assert r.json() == {"accepted": 1, "duplicates": 0, "rejected": []}


def test_batch_with_invalid_unknown_and_duplicate_items(key_client: Any, db: Any) -> None:
    lead = make_lead(email="batch@example.jp")
    key_client.post(URL, {"lead": lead.pk, "type": "page_view", "id": "seen"}, format="json")
    items = [
        {"lead": lead.pk, "type": "page_view", "id": "n1", "properties": {"url": "/features"}},
        {"lead": lead.pk, "type": "Bad Type!"},
        {"email": "nobody@example.jp", "type": "page_view"},
        {"lead": lead.pk, "type": "page_view", "id": "seen"},
        {
            "lead": lead.pk,
            "type": "quote_request",
            "id": "n2",
            "occurred_at": "2026-11-30T10:00:00+09:00",
        },
        {"lead": lead.pk, "type": "page_view", "id": "n1"},
        {"type": "page_view"},
        "not an object",
    ]
    r = key_client.post(URL, items, format="json")
    assert r.status_code == 202
    body = r.json()
    assert body["accepted"] == 2
    assert body["duplicates"] == 2
    assert [x["index"] for x in body["rejected"]] == [1, 2, 6, 7]
    assert body["rejected"][0]["errors"][0]["field"] == "type"
    assert body["rejected"][1]["errors"][0]["code"] == "unknown_lead"
    assert Event.objects.filter(lead=lead).count() == 3
    assert sorted(
        Event.objects.exclude(external_id=None).values_list("external_id", flat=True)
    ) == ["n1", "n2", "seen"]


def test_more_than_1000_events_is_400_and_writes_nothing(key_client: Any, db: Any) -> None:
    lead = make_lead()
    r = key_client.post(URL, [{"lead": lead.pk, "type": "page_view"}] * 1001, format="json")
    assert r.status_code == 400
    assert not Event.objects.exists()


def test_a_thousand_events_in_one_request(key_client: Any, db: Any) -> None:
    leads = [make_lead() for _ in range(5)]
    items = [{"lead": leads[i % 5].pk, "type": "page_view", "id": f"b-{i}"} for i in range(1000)]
    r = key_client.post(URL, items, format="json")
    assert r.json() == {"accepted": 1000, "duplicates": 0, "rejected": []}
    assert Event.objects.count() == 1000
    # one mark per lead (beside its intake's), not one per event
    marks = Counter(RescoreMark.objects.values_list("lead_id", flat=True))
    assert marks == {lead.pk: 2 for lead in leads}
    again = key_client.post(URL, items, format="json")
    assert again.json() == {"accepted": 0, "duplicates": 1000, "rejected": []}
    assert Event.objects.count() == 1000
