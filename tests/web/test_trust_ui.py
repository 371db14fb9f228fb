"""What a person sees when things are refused or past a stage: pages in their language (never
debug pages or problem+json), stored evaluations, labels instead of codes, own figures."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.test import Client

from accounts.models import Team
from leadflow.models import Job
from tests.factories import advance, make_mql


def test_a_missing_or_forbidden_page_is_a_page_in_the_users_language(
    world: Any, web_as: Any
) -> None:
    rep = web_as("rep_b")
    r = rep.get(f"/leads/{world['mql'].pk}/", HTTP_ACCEPT="text/html")
    assert r.status_code == 404 and r["Content-Type"].startswith("text/html")
    assert 'data-status="404"' in r.content.decode() and "URLconf" not in r.content.decode()
    rep.post("/language/", {"language": "ja"})
    r = rep.get("/web-forms/", HTTP_ACCEPT="text/html")
    assert r.status_code == 403 and "アクセスできません" in r.content.decode()
    api = rep.get(f"/api/v1/leads/{world['mql'].pk}/")
    assert api.status_code == 404 and api["Content-Type"] == "application/problem+json"


def test_the_public_forms_refusal_carries_none_of_leadflows_own_chrome(world: Any) -> None:
    r = Client().post(f"/forms/{world['form'].public_key}/", {"email": "x@example.jp"},
                      HTTP_ORIGIN="https://evil.example")  # fmt: skip
    html = r.content.decode()
    assert r.status_code == 403
    assert "topbar" not in html and "/api/v1/docs/" not in html and "language" not in html


def test_past_a_stage_the_page_shows_the_stored_evaluation_in_words(
    world: Any, web_as: Any
) -> None:
    html = web_as("coo").get(f"/leads/{world['won'].pk}/").content.decode()
    assert "Became MQL on" in html and "Became SQL on" in html
    assert "not all pass" not in html, "a won lead is not re-evaluated as of today"
    assert "Engagement score at least 20" in html and "score_at_least" not in html
    assert "{&quot;" not in html and '{"missing"' not in html, "no raw JSON"


def test_a_disqualification_reason_is_a_code_from_the_list(world: Any, client_for: Any) -> None:
    api = client_for("rep_a")
    bad = api.post(f"/api/v1/leads/{world['sal'].pk}/transitions/disqualify/",
                   {"reason": "they are rude"}, format="json")  # fmt: skip
    assert bad.status_code == 400
    ok = api.post(f"/api/v1/leads/{world['sal'].pk}/transitions/disqualify/",
                  {"reason": "no_budget"}, format="json")  # fmt: skip
    assert ok.status_code == 200


def test_a_rep_reads_their_own_figures_a_manager_the_teams(
    world: Any, users: Any, client_for: Any
) -> None:
    team_a = Team.objects.get(name="Team A")
    mine = make_mql(team=team_a, owner=users["rep_a2"], email="abe@example.jp")
    advance(mine, ("accept", users["rep_a2"], {}))
    reps = client_for("rep_a").get("/api/v1/reports/handoffs/").json()["reps"]
    assert {r["rep"] for r in reps} == {users["rep_a"].pk}, "not the teammate's rows"
    team = client_for("manager_a").get("/api/v1/reports/handoffs/").json()["reps"]
    assert {r["rep"] for r in team} == {users["rep_a"].pk, users["rep_a2"].pk}
    funnel = client_for("rep_a2").get("/api/v1/reports/funnel/").json()["stages"]
    assert {s["stage"]: s["first"]["entered"] for s in funnel}["sal"] == 1


def test_saving_a_rule_shows_the_recompute_and_its_result(
    world: Any, web_as: Any, eager_tasks: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = web_as("marketing")
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/scoring/new/", {"kind": "fit", "name": "Big", "points": "5",
                                          "field": "company_size", "operator": "between",
                                          "values": "500, 5000", "is_active": "on"})  # fmt: skip
    job = Job.objects.filter(kind="score_recompute").latest("id")
    assert r.status_code == 302 and r["Location"].endswith(f"?job={job.pk}#recompute")
    page = client.get(r["Location"]).content.decode()
    assert 'data-figure="rescored"' in page and "4 leads scored" in page


def test_amounts_are_read_as_people_write_them_and_shown_without_decimals(
    world: Any, web_as: Any
) -> None:
    lead = world["sal"]
    client = web_as("rep_a")
    for typed, stored in (("５，０００，０００", 5_000_000), ("¥4,800,000", 4_800_000),
                          ("１２３", 123), ("1,000,000円", 1_000_000)):  # fmt: skip
        r = client.post(f"/leads/{lead.pk}/edit/", {"part": "qualification", "budget": typed})
        assert r.status_code == 302, typed
        lead.refresh_from_db()
        assert lead.budget == Decimal(stored), typed
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert 'value="1,000,000"' in page and "1000000.00" not in page


def test_a_backtest_job_is_not_shown_to_who_may_not_read_it(
    world: Any, web_as: Any, eager_tasks: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from leads.models import Definition
    from leads.services.definitions import definition_create

    draft = definition_create(name="d", document=Definition.objects.get(status="published").document,
                              actor=world["won"].owner)  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        r = web_as("coo").post(f"/definitions/{draft.pk}/backtest/", {"from": "2026-01-01"})
    location = r["Location"]
    assert 'data-status="' in web_as("coo").get(location).content.decode()
    page = web_as("rep_b").get(location).content.decode()
    assert "job-" not in page and "backtest-result" not in page, "another role sees no result"


def test_a_public_form_fills_empty_fields_only_and_keeps_what_it_was_sent(
    world: Any, web_as: Any
) -> None:
    mql = world["mql"]
    form = world["form"]
    r = Client().post(f"/forms/{form.public_key}/", {
        "email": mql.email, "company": "OVERWRITTEN", "last_name": "上書き"},
        HTTP_ORIGIN="https://www.example.co.jp")  # fmt: skip
    assert r.status_code == 303
    mql.refresh_from_db()
    assert mql.company != "OVERWRITTEN" and mql.last_name != "上書き", "nothing overwritten"
    page = web_as("coo").get(f"/leads/{mql.pk}/").content.decode()
    assert "Web form “Contact” sent" in page and "OVERWRITTEN" in page, "kept on the timeline"


def test_errors_name_inputs_by_their_labels_never_their_codes(world: Any, web_as: Any) -> None:
    r = web_as("coo").get("/dashboard/", {"from": "2026-12-09", "to": "2026-12-01"})
    text = r.content.decode()
    assert "From: The first day must not be after the last day." in text
    assert "from: " not in text and "Must be before" not in text
    html = web_as("coo").get("/leads/", {"min_score": "lots"}).content.decode()
    assert "Score at least: " in html and "min_score: " not in html
