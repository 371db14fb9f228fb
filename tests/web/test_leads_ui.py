"""The lead list (filters, search, sort, keyset pages, bulk archive, CSV export) and the lead
page's actions, through the same services as the API."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest

from leads.models import Lead, LeadTransition
from tests.factories import make_lead


def ids_on(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/leads/(\d+)/"', html)]


def test_keyset_pages_walk_every_lead_once_in_order(world: Any, web_as: Any) -> None:
    for i in range(120):
        make_lead(email=f"bulk{i:03d}@example.jp", company=f"Bulk {i}")
    client = web_as("marketing")
    for sort, key in (("-created", lambda lead: (lead.created_at, lead.pk)),
                      ("email", lambda lead: (lead.email, lead.pk))):  # fmt: skip
        seen: list[int] = []
        url = f"/leads/?sort={sort}"
        while url:
            html = client.get(url).content.decode()
            seen += ids_on(html)
            nxt = re.search(r'href="(\?[^"]*cursor=[^"]+)" rel="next"', html)
            url = "/leads/" + nxt.group(1).replace("&amp;", "&") if nxt else ""
        expected = sorted(Lead.objects.all(), key=key, reverse=sort.startswith("-"))
        assert seen == [lead.pk for lead in expected], sort
        # ... and back: "Previous page" from the last page walks the same pages in reverse.
        back: list[int] = []
        page_ids = ids_on(html)
        while True:
            back = page_ids + back
            prev = re.search(r'href="(\?[^"]*cursor=[^"]+)" rel="prev"', html)
            if not prev:
                break
            html = client.get("/leads/" + prev.group(1).replace("&amp;", "&")).content.decode()
            page_ids = ids_on(html)
        assert back == seen, f"{sort}: previous pages"


def test_filters_and_search_narrow_the_list(world: Any, web_as: Any) -> None:
    client = web_as("coo")
    html = client.get("/leads/", {"q": "ｻﾄｳ"}).content.decode()  # half-width kana finds サトウ
    assert ids_on(html) == [world["plain"].pk]
    html = client.get("/leads/", {"state": "won"}).content.decode()
    assert ids_on(html) == [world["won"].pk]
    html = client.get("/leads/", {"q": "MQL@EXAMPLE"}).content.decode()
    assert ids_on(html) == [world["mql"].pk]
    assert ids_on(web_as("rep_b").get("/leads/").content.decode()) == [], "another team's leads"


def test_the_lead_list_query_count_does_not_grow_with_the_page(
    world: Any, web_as: Any, django_assert_num_queries: Any
) -> None:
    client = web_as("marketing")
    client.get("/leads/")
    # session, user, roles, the page, its count, and the owner and team filters' choices
    with django_assert_num_queries(7):
        first = client.get("/leads/")
    for i in range(60):
        make_lead(email=f"more{i}@example.jp")
    with django_assert_num_queries(7):
        full = client.get("/leads/")
    assert len(ids_on(first.content.decode())) == 4 and len(ids_on(full.content.decode())) == 50


def test_bulk_archive_moves_each_lead_through_the_lifecycle(world: Any, web_as: Any) -> None:
    extra = make_lead(email="spam@example.jp")
    r = web_as("marketing").post("/leads/archive/", {
        "lead": [world["plain"].pk, extra.pk, world["won"].pk], "reason": "spam",
    })  # fmt: skip
    assert r.status_code == 302
    assert Lead.objects.get(pk=extra.pk).state == "archived"
    assert Lead.objects.get(pk=world["plain"].pk).archive_reason == "spam"
    assert Lead.objects.get(pk=world["won"].pk).state == "won", "won is not archivable"
    assert LeadTransition.objects.filter(transition="archive").count() == 2
    assert web_as("rep_a").post("/leads/archive/", {"lead": [world["mql"].pk]}).status_code == 403


def test_csv_export_is_the_current_filter(world: Any, web_as: Any) -> None:
    r = web_as("coo").get("/leads/export.csv", {"state": ["won", "sal"]})
    assert r["Content-Type"].startswith("text/csv")
    body = b"".join(r.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert {row["email"] for row in rows} == {"won@example.co.jp", "sal@example.co.jp"}
    won = next(row for row in rows if row["state"] == "won")
    assert won["owner"] == "aoki" and won["team"] == "Team A" and won["budget"] == "5000000.00"
    scoped = web_as("rep_b").get("/leads/export.csv")
    assert (
        list(csv.DictReader(io.StringIO(b"".join(scoped.streaming_content).decode("utf-8-sig"))))
        == []
    )


def test_marketing_edits_a_lead_with_errors_at_the_field(world: Any, web_as: Any) -> None:
    lead = world["plain"]
    client = web_as("marketing")
    r = client.post(
        f"/leads/{lead.pk}/edit/", {"part": "fields", "company": "新社名", "phone": "no"}
    )
    assert r.status_code == 400
    html = r.content.decode()
    assert re.search(r'class="field-error">\s*<label for="f-phone">', html)
    assert Lead.objects.get(pk=lead.pk).company != "新社名", "nothing is written"
    r = client.post(f"/leads/{lead.pk}/edit/", {"part": "fields", "company": "新社名",
                                                "phone": "03-1111-2222", "company_size": ""})  # fmt: skip
    assert r.status_code == 302
    lead.refresh_from_db()
    assert (lead.company, lead.phone, lead.company_size) == ("新社名", "+81311112222", None)


def test_a_rep_qualifies_then_wins_from_the_lead_page(world: Any, web_as: Any) -> None:
    lead = world["sal"]
    client = web_as("rep_a")
    r = client.post(f"/leads/{lead.pk}/transitions/qualify_sql/", {})
    assert Lead.objects.get(pk=lead.pk).state == "sal"
    message = r.wsgi_request._messages._queued_messages[0].message
    assert "Decision maker reached" in message and "decision_maker" not in message, (
        "the failing criteria by their labels, not their codes"
    )
    client.post(f"/leads/{lead.pk}/edit/", {"part": "qualification", "decision_maker": "true",
                                            "budget": "¥2,000,000", "timeline": "2027-01-15",
                                            "need": "SFA"})  # fmt: skip
    lead.refresh_from_db()
    assert lead.budget == 2_000_000, "amounts are read as people write them"
    client.post(f"/leads/{lead.pk}/transitions/qualify_sql/", {})
    assert Lead.objects.get(pk=lead.pk).state == "sql"
    client.post(f"/leads/{lead.pk}/transitions/win/", {"amount": "1,200,000"})
    lead.refresh_from_db()
    assert (lead.state, lead.won_amount) == ("won", 1200000)
    assert (
        web_as("marketing")
        .post(f"/leads/{world['mql'].pk}/edit/", {"part": "qualification", "budget": "1"})
        .status_code
        == 302
    )
    assert Lead.objects.get(pk=world["mql"].pk).budget is None, (
        "marketing may not write sales fields"
    )


@pytest.mark.parametrize("who", ["rep_b", "manager_b"])
def test_another_team_cannot_act_on_a_lead(world: Any, web_as: Any, who: str) -> None:
    lead = world["sal"]
    assert web_as(who).post(f"/leads/{lead.pk}/transitions/disqualify/",
                            {"reason": "x"}).status_code == 404  # fmt: skip
    assert web_as(who).post(f"/leads/{lead.pk}/edit/", {"part": "qualification",
                                                        "budget": "1"}).status_code == 404  # fmt: skip
    assert Lead.objects.get(pk=lead.pk).state == "sal"


def test_archiving_an_archived_lead_says_so_in_words(world: Any, web_as: Any) -> None:
    client = web_as("marketing")
    client.post("/leads/archive/", {"lead": [world["plain"].pk], "reason": "spam"})
    r = client.post("/leads/archive/", {"lead": [world["plain"].pk], "reason": "spam"},
                    follow=True)  # fmt: skip
    text = r.content.decode()
    assert "“Archive” is not possible for a lead in state “Archived”." in text
    assert "archive&#x27; is not available" not in text and "'archive'" not in text
    assert world["plain"].pk not in ids_on(client.get("/leads/").content.decode())
    assert world["plain"].pk in ids_on(client.get("/leads/?state=archived").content.decode())


def test_any_state_and_source_filter_nothing_and_search_finds_kana(world: Any, web_as: Any) -> None:
    r = web_as("marketing").get("/leads/", {"q": "ｻﾄｳ", "state": "", "source": "", "owner": ""})
    html = r.content.decode()
    assert r.status_code == 200 and "is not one of the available choices" not in html
    assert ids_on(html) == [world["plain"].pk], "half-width kana finds サトウ"
