"""The sales inbox (mine / my team, SLA countdown, accept, reject with a criterion) and the
pipeline, through the same transitions as the API."""

from __future__ import annotations

from typing import Any

from accounts.models import Team
from handoff.models import Handoff
from leads.models import Lead
from tests.factories import make_mql


def test_the_inbox_shows_mine_and_my_teams_open_handoffs(
    world: Any, web_as: Any, users: Any
) -> None:
    team_a = Team.objects.get(name="Team A")
    other = make_mql(team=team_a, owner=users["rep_a2"], email="mate@example.jp")
    mine = Handoff.objects.get(lead=world["mql"], status="open")
    html = web_as("rep_a").get("/inbox/").content.decode()
    assert f'id="handoff-{mine.pk}"' in html and "mate@example.jp" not in html
    assert f'data-due="{mine.due_at.isoformat()}"' in html, "the SLA countdown's due time"
    team = web_as("rep_a").get("/inbox/?tab=team").content.decode()
    assert "mate@example.jp" in team or f"/leads/{other.pk}/" in team
    assert web_as("rep_b").get("/inbox/?tab=team").content.decode().count('id="handoff-') == 0


def test_accept_in_place_with_htmx(world: Any, web_as: Any) -> None:
    h = Handoff.objects.get(lead=world["mql"], status="open")
    r = web_as("rep_a").post(f"/inbox/{h.pk}/accept/", HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and r.content.decode().lstrip().startswith(
        f'<tr id="handoff-{h.pk}"'
    )
    assert "Accepted" in r.content.decode()
    assert Lead.objects.get(pk=world["mql"].pk).state == "sal"
    again = web_as("rep_a").post(f"/inbox/{h.pk}/accept/", HTTP_HX_REQUEST="true")
    assert again.status_code == 200 and Lead.objects.get(pk=world["mql"].pk).state == "sal"


def test_reject_needs_a_criterion_reason(world: Any, web_as: Any) -> None:
    h = Handoff.objects.get(lead=world["mql"], status="open")
    client = web_as("manager_a")
    r = client.post(f"/inbox/{h.pk}/reject/", {"reason": ""}, HTTP_HX_REQUEST="true")
    assert (
        'role="alert"' in r.content.decode() and Lead.objects.get(pk=world["mql"].pk).state == "mql"
    )
    r = client.post(f"/inbox/{h.pk}/reject/", {"reason": "icp"})
    assert r.status_code == 302
    h.refresh_from_db()
    assert (h.status, h.reason) == ("rejected", "icp")
    assert Lead.objects.get(pk=world["mql"].pk).state == "recycled"


def test_another_team_cannot_answer(world: Any, web_as: Any) -> None:
    h = Handoff.objects.get(lead=world["mql"], status="open")
    assert web_as("rep_b").post(f"/inbox/{h.pk}/accept/").status_code == 404
    assert web_as("marketing").post(f"/inbox/{h.pk}/accept/").status_code == 403
    assert Lead.objects.get(pk=world["mql"].pk).state == "mql"


def test_the_inbox_query_count_does_not_grow_with_the_handoffs(
    world: Any, web_as: Any, users: Any, django_assert_num_queries: Any
) -> None:
    client = web_as("rep_a")
    client.get("/inbox/")
    # session, user, roles, teams, the handoffs and their leads, the two tabs' counts
    with django_assert_num_queries(7):
        one = client.get("/inbox/")
    team_a = Team.objects.get(name="Team A")
    for i in range(15):
        make_mql(team=team_a, owner=users["rep_a"], email=f"queue{i}@example.jp")
    with django_assert_num_queries(7):
        many = client.get("/inbox/")
    assert one.content.decode().count('id="handoff-') == 1
    assert many.content.decode().count('id="handoff-') == 16


def test_the_pipeline_lists_my_sals_and_sqls(world: Any, web_as: Any) -> None:
    html = web_as("rep_a").get("/pipeline/").content.decode()
    assert f"/leads/{world['sal'].pk}/" in html and f"/leads/{world['won'].pk}/" not in html
    assert "transition-disqualify" in html and "transition-qualify_sql" in html
    assert f"/leads/{world['sal'].pk}/" not in web_as("rep_b").get("/pipeline/").content.decode()
