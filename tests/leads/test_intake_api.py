"""POST /api/v1/intake/: normalisation, dedupe, update rules, idempotency, embedded events."""

from __future__ import annotations

from typing import Any

from leads.models import Event, IdempotencyRecord, Lead, RescoreMark

URL = "/api/v1/intake/"


def test_new_lead_is_created_normalised(key_client: Any, db: Any) -> None:
    r = key_client.post(
        URL,
        {
            "email": "  Ｔａｒｏ．Ｙａｍａｄａ＠Ｅｘａｍｐｌｅ．ＣＯ．ＪＰ ",
            "phone": "０３－１２３４－５６７８",
            "last_name": "山田",
            "last_name_kana": "ﾔﾏﾀﾞ",
            "company": "<b>Acme</b> 株式会社",
            "company_size": "１２０",
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    assert r.json()["created"] is True
    assert r.json()["state"] == "lead"
    lead = Lead.objects.get(pk=r.json()["id"])
    assert lead.email == "taro.yamada@example.co.jp"
    assert lead.phone == "+81312345678"
    assert lead.last_name_kana == "ヤマダ"
    assert lead.company == "<b>Acme</b> 株式会社"  # stored as text, escaped on output
    assert lead.company_size == 120


def test_same_person_in_another_spelling_updates_non_empty_fields(key_client: Any, db: Any) -> None:
    first = key_client.post(
        URL,
        {"email": "a@example.jp", "company": "Acme", "title": "CTO", "source": "ad"},
        format="json",
    )
    again = key_client.post(
        URL,
        {"email": "A@EXAMPLE.JP", "company": "", "title": "CEO", "source": "seminar"},
        format="json",
    )
    assert again.status_code == 200
    assert again.json() == {"id": first.json()["id"], "state": "lead", "created": False}
    lead = Lead.objects.get()
    assert (lead.company, lead.title) == ("Acme", "CEO")
    assert lead.source == "ad", "first-touch source is kept"


def test_invalid_phone_and_email_are_400(key_client: Any, db: Any) -> None:
    r = key_client.post(URL, {"email": "not-an-email", "phone": "12"}, format="json")
    assert r.status_code == 400
    body = r.json()
    assert r["Content-Type"] == "application/problem+json"
    assert {e["field"] for e in body["errors"]} == {"email", "phone"}
    assert not Lead.objects.exists()


def test_intake_with_events(key_client: Any, db: Any) -> None:
    r = key_client.post(
        URL,
        {
            "email": "ev@example.jp",
            "events": [
                {"type": "page_view", "properties": {"url": "/features"}, "id": "e-1"},
                {"type": "document_download", "id": "e-2"},
            ],
        },
        format="json",
    )
    assert r.status_code == 201
    assert r.json()["events"] == {"accepted": 2, "duplicates": 0, "rejected": []}
    lead = Lead.objects.get()
    # marked twice in the one transaction: by the insert and by its events
    assert RescoreMark.objects.filter(lead=lead).count() == 2
    assert sorted(Event.objects.values_list("external_id", flat=True)) == ["e-1", "e-2"]


def test_idempotency_key_replays_the_first_response(key_client: Any, db: Any) -> None:
    body = {"email": "idem@example.jp", "company": "Acme"}
    first = key_client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = key_client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Lead.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_idempotency_key_with_another_body_is_422(key_client: Any, db: Any) -> None:
    key_client.post(URL, {"email": "idem@example.jp"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    r = key_client.post(
        URL, {"email": "other@example.jp"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert r.status_code == 422
    assert r.json()["type"].endswith("idempotency-key-reused")
    assert list(Lead.objects.values_list("email", flat=True)) == ["idem@example.jp"]


def test_idempotency_keys_are_per_client(key_client: Any, client_for: Any) -> None:
    key_client.post(URL, {"email": "one@example.jp"}, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    r = client_for("marketing").post(
        URL, {"email": "two@example.jp"}, format="json", HTTP_IDEMPOTENCY_KEY="shared"
    )
    assert r.status_code == 201
    assert Lead.objects.count() == 2


def test_expired_idempotency_key_is_processed_again(key_client: Any, db: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    key_client.post(URL, {"email": "old@example.jp"}, format="json", HTTP_IDEMPOTENCY_KEY="k-old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    r = key_client.post(
        URL, {"email": "new@example.jp"}, format="json", HTTP_IDEMPOTENCY_KEY="k-old"
    )
    assert r.status_code == 201
    assert Lead.objects.count() == 2


def test_failed_request_does_not_burn_the_key(key_client: Any, db: Any) -> None:
    bad = key_client.post(URL, {"email": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.exists()
    good = key_client.post(
        URL, {"email": "x@example.jp"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3"
    )
    assert good.status_code == 201


def test_intake_key_cannot_read(key_client: Any, db: Any) -> None:
    lead_id = key_client.post(URL, {"email": "r@example.jp"}, format="json").json()["id"]
    for url in ("/api/v1/leads/", f"/api/v1/leads/{lead_id}/", "/api/v1/definitions/"):
        r = key_client.get(url)
        assert r.status_code == 403, url
        assert r["Content-Type"] == "application/problem+json"


def test_sales_rep_intake_of_an_sgl_is_theirs(client_for: Any, users: Any) -> None:
    r = client_for("rep_a").post(
        URL, {"email": "sgl@example.jp", "source": "sales_generated"}, format="json"
    )
    assert r.status_code == 201
    lead = Lead.objects.get()
    assert lead.owner == users["rep_a"]
    assert lead.team is not None and lead.team.name == "Team A"
    detail = client_for("rep_a").get(f"/api/v1/leads/{lead.pk}/").json()
    assert "claim" in detail["available_transitions"]


def test_a_rep_cannot_touch_another_teams_lead_through_intake_or_events(
    client_for: Any, users: Any, published_definition: Any
) -> None:
    from accounts.models import Team
    from tests.factories import make_mql

    other = make_mql(
        team=Team.objects.get(name="Team B"),
        owner=users["rep_b"],
        email="theirs@example.jp",
        title="CFO",
    )
    rep_a = client_for("rep_a")
    r = rep_a.post(URL, {"email": "THEIRS@example.jp", "title": "Intern"}, format="json")
    assert r.status_code == 409 and str(other.pk) not in r.content.decode()
    assert Lead.objects.get(pk=other.pk).title == "CFO"
    r = rep_a.post(
        "/api/v1/events/",
        [
            {"lead": other.pk, "type": "page_view"},
            {"email": "theirs@example.jp", "type": "page_view"},
        ],
        format="json",
    )
    assert r.json()["accepted"] == 0
    assert [e["errors"][0]["code"] for e in r.json()["rejected"]] == [
        "unknown_lead",
        "unknown_lead",
    ]
    assert not Event.objects.filter(lead=other, type="page_view").exists()
    # the same calls from marketing, who reads every lead, go through
    assert (
        client_for("marketing")
        .post(URL, {"email": "theirs@example.jp", "department": "IT"}, format="json")
        .status_code
        == 200
    )
    assert (
        client_for("marketing")
        .post("/api/v1/events/", {"lead": other.pk, "type": "page_view"}, format="json")
        .json()["accepted"]
        == 1
    )


def test_first_touch_fills_only_what_was_unset(key_client: Any, db: Any) -> None:
    key_client.post(URL, {"email": "ft@example.jp", "utm_source": "google"}, format="json")
    key_client.post(
        URL,
        {"email": "ft@example.jp", "source": "ad", "campaign": "spring", "utm_source": "bing"},
        format="json",
    )
    lead = Lead.objects.get(email="ft@example.jp")
    assert (lead.source, lead.campaign, lead.utm_source) == ("ad", "spring", "google")
