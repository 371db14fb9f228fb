"""Leads list, detail, PATCH, timeline and transitions through the API."""

from __future__ import annotations

from typing import Any

from accounts.models import Team
from leads.models import Lead, LeadScore, LeadTransition
from tests.factories import give_events, make_lead, make_mql


def test_list_filters_search_and_cursor_pages(client_for: Any, users: Any) -> None:
    for i in range(7):
        make_lead(
            email=f"p{i}@example.jp",
            source="ad" if i % 2 else "seminar",
            campaign="spring" if i < 3 else "",
        )
    make_lead(email="kana@example.jp", last_name_kana="スズキ", company="鈴木工業")
    c = client_for("marketing")
    page = c.get("/api/v1/leads/?page_size=3").json()
    assert set(page) == {"next", "previous", "results"} and len(page["results"]) == 3
    seen = [r["id"] for r in page["results"]]
    while page["next"]:
        page = c.get(page["next"]).json()
        seen += [r["id"] for r in page["results"]]
    assert sorted(seen) == sorted(Lead.objects.values_list("pk", flat=True))
    assert len(seen) == len(set(seen)) == 8
    assert {r["source"] for r in c.get("/api/v1/leads/?source=ad").json()["results"]} == {"ad"}
    assert len(c.get("/api/v1/leads/?campaign=spring").json()["results"]) == 3
    assert [r["email"] for r in c.get("/api/v1/leads/?q=ｽｽﾞｷ").json()["results"]] == [
        "kana@example.jp"
    ]
    assert [r["email"] for r in c.get("/api/v1/leads/?q=鈴木").json()["results"]] == [
        "kana@example.jp"
    ]
    assert c.get("/api/v1/leads/?state=nonsense").status_code == 400


def test_min_score_and_ordering(client_for: Any, users: Any) -> None:
    low, high = make_lead(), make_lead()
    LeadScore.objects.filter(lead=low).update(engagement=5)
    LeadScore.objects.filter(lead=high).update(engagement=50, fit=10)
    c = client_for("coo")
    assert [r["id"] for r in c.get("/api/v1/leads/?min_score=10").json()["results"]] == [high.pk]
    ordered = c.get("/api/v1/leads/?ordering=score").json()["results"]
    assert [r["id"] for r in ordered] == [low.pk, high.pk]
    assert ordered[1]["score"] == 60.0 and ordered[1]["fit_score"] == 10.0


def test_list_query_count_is_constant(
    client_for: Any, users: Any, published_definition: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(30):
        make_lead()
    c = client_for("rep_a")
    c.get("/api/v1/leads/")
    for _ in range(30):
        make_mql(team=Team.objects.get(name="Team A"))
    # auth user + groups + team memberships + page (+ savepoints)
    with django_assert_max_num_queries(6):
        r = c.get("/api/v1/leads/?page_size=50")
    assert len(r.json()["results"]) == 30


def test_sales_reads_only_their_team(
    client_for: Any, users: Any, published_definition: Any
) -> None:
    a = make_mql(team=Team.objects.get(name="Team A"))
    b = make_mql(team=Team.objects.get(name="Team B"))
    unassigned = make_lead()
    rep_a = client_for("rep_a")
    assert [r["id"] for r in rep_a.get("/api/v1/leads/").json()["results"]] == [a.pk]
    assert rep_a.get(f"/api/v1/leads/{b.pk}/").status_code == 404
    assert rep_a.get(f"/api/v1/leads/{unassigned.pk}/").status_code == 404
    assert rep_a.get(f"/api/v1/leads/{b.pk}/timeline/").status_code == 404
    assert (
        rep_a.post(f"/api/v1/leads/{b.pk}/transitions/accept/", {}, format="json").status_code
        == 404
    )
    assert Lead.objects.get(pk=b.pk).state == "mql"
    mgr_b = client_for("manager_b")
    assert [r["id"] for r in mgr_b.get("/api/v1/leads/").json()["results"]] == [b.pk]
    assert len(client_for("marketing").get("/api/v1/leads/").json()["results"]) == 3
    assert len(client_for("coo").get("/api/v1/leads/").json()["results"]) == 3


def test_transition_refused_lists_failing_criteria(
    client_for: Any, users: Any, published_definition: Any
) -> None:
    lead = make_lead(industry="retail")
    r = client_for("marketing").post(
        f"/api/v1/leads/{lead.pk}/transitions/qualify_mql/", {}, format="json"
    )
    assert r.status_code == 409
    assert r["Content-Type"] == "application/problem+json"
    body = r.json()
    assert body["type"].endswith("criteria-not-met")
    assert {c["code"] for c in body["criteria"] if not c["passed"]} == {"engaged", "icp", "need"}
    assert all({"code", "passed", "observed", "expected"} <= set(c) for c in body["criteria"])
    assert not LeadTransition.objects.exists()


def test_transition_from_wrong_state_is_409_and_wrong_role_403(
    client_for: Any, users: Any, published_definition: Any
) -> None:
    lead = make_lead()
    r = client_for("marketing").post(
        f"/api/v1/leads/{lead.pk}/transitions/win/", {"amount": 10}, format="json"
    )
    assert r.status_code == 409 and r.json()["type"].endswith("transition-not-available")
    r = client_for("coo").post(
        f"/api/v1/leads/{lead.pk}/transitions/archive/", {"reason": "spam"}, format="json"
    )
    assert r.status_code == 403
    r = client_for("marketing").post(
        f"/api/v1/leads/{lead.pk}/transitions/archive/", {"reason": "spam"}, format="json"
    )
    assert (
        r.status_code == 200
        and r.json()["state"] == "archived"
        and r.json()["archive_reason"] == "spam"
    )


def test_available_transitions_depend_on_caller(
    client_for: Any, users: Any, published_definition: Any
) -> None:
    lead = make_mql(team=Team.objects.get(name="Team A"))
    assert client_for("rep_a").get(f"/api/v1/leads/{lead.pk}/").json()["available_transitions"] == [
        "accept",
        "reject",
    ]
    assert client_for("marketing").get(f"/api/v1/leads/{lead.pk}/").json()[
        "available_transitions"
    ] == ["archive"]
    assert client_for("coo").get(f"/api/v1/leads/{lead.pk}/").json()["available_transitions"] == []


def test_patch_by_role_and_state(client_for: Any, users: Any, published_definition: Any) -> None:
    lead = make_lead()
    r = client_for("marketing").patch(
        f"/api/v1/leads/{lead.pk}/", {"title": "ＣＥＯ", "phone": "090-1234-5678"}, format="json"
    )
    assert r.status_code == 200
    assert (r.json()["title"], r.json()["phone"]) == ("CEO", "+819012345678")
    assert (
        client_for("marketing")
        .patch(f"/api/v1/leads/{lead.pk}/", {"budget": "100"}, format="json")
        .status_code
        == 403
    )
    r = client_for("marketing").patch(f"/api/v1/leads/{lead.pk}/", {"state": "won"}, format="json")
    assert r.status_code == 400 and "transitions" in r.json()["errors"][0]["message"]
    mql = make_mql(team=Team.objects.get(name="Team A"))
    assert (
        client_for("marketing")
        .patch(f"/api/v1/leads/{mql.pk}/", {"title": "x"}, format="json")
        .status_code
        == 403
    )
    client_for("rep_a").post(f"/api/v1/leads/{mql.pk}/transitions/accept/", {}, format="json")
    r = client_for("rep_a").patch(
        f"/api/v1/leads/{mql.pk}/",
        {"budget": "3000000", "decision_maker": True, "timeline": "2027-03-01"},
        format="json",
    )
    assert r.status_code == 200 and r.json()["budget"] == 3000000.0
    assert (
        client_for("rep_a2")
        .patch(f"/api/v1/leads/{mql.pk}/", {"need": "x"}, format="json")
        .status_code
        == 403
    )
    assert (
        client_for("manager_a")
        .patch(f"/api/v1/leads/{mql.pk}/", {"need": "ERP"}, format="json")
        .status_code
        == 200
    )
    other = make_lead(email="taken@example.jp")
    r = client_for("coo").patch(
        f"/api/v1/leads/{lead.pk}/", {"email": "TAKEN@example.jp"}, format="json"
    )
    assert r.status_code == 409
    assert Lead.objects.get(pk=other.pk).email == "taken@example.jp"


def test_timeline_newest_first_with_events_and_transitions(
    client_for: Any, users: Any, published_definition: Any
) -> None:
    lead = make_mql(team=Team.objects.get(name="Team A"))
    give_events(lead, "page_view", days_ago=0)
    client_for("rep_a").post(f"/api/v1/leads/{lead.pk}/transitions/accept/", {}, format="json")
    page = client_for("rep_a").get(f"/api/v1/leads/{lead.pk}/timeline/").json()
    kinds = [
        (i["kind"], (i.get("transition") or {}).get("transition") or i["event"]["type"])
        for i in page["results"]
    ]
    assert kinds[0] == ("transition", "accept")
    assert ("transition", "qualify_mql") in kinds and ("event", "quote_request") in kinds
    times = [i["at"] for i in page["results"]]
    assert times == sorted(times, reverse=True)
    first = client_for("rep_a").get(f"/api/v1/leads/{lead.pk}/timeline/?limit=2").json()
    assert len(first["results"]) == 2 and first["next"]
    rest = client_for("rep_a").get(first["next"]).json()["results"]
    assert len(rest) == len(page["results"]) - 2
    assert client_for("rep_a").get(f"/api/v1/leads/{lead.pk}/timeline/?limit=0").status_code == 400


def test_timeline_with_an_impossible_date_is_a_400(client_for: Any, users: Any) -> None:
    lead = make_lead()
    for before in ("2026-13-01T00:00:00", "2026-02-30T10:00:00+09:00", "soon"):
        r = client_for("marketing").get(f"/api/v1/leads/{lead.pk}/timeline/", {"before": before})
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == "before", before
