"""Mass assignment: no field a caller may not write can be written, whatever the body says.
Read-only fields are a 400 that names them, for every role; fields a role may not edit in the
lead's state are a 403; nothing is written either way."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import Team
from leads.models import Lead
from tests.factories import advance, make_lead, make_mql

READ_ONLY = ["state", "owner", "team", "responsible", "definition", "won_amount", "score",
             "fit_score", "engagement_score", "recycle_count", "recyclable_at", "created_at",
             "id", "available_transitions", "archive_reason"]  # fmt: skip


def snapshot(lead: Lead) -> dict[str, Any]:
    lead.refresh_from_db()
    return {f.name: getattr(lead, f.attname) for f in Lead._meta.concrete_fields
            if f.name != "updated_at"}  # fmt: skip


@pytest.mark.parametrize("field", READ_ONLY)
@pytest.mark.parametrize("who", ["marketing", "coo", "rep_a"])
def test_read_only_fields_are_refused_for_every_role(
    users: Any, published_definition: Any, client_for: Any, field: str, who: str
) -> None:
    lead = advance(make_mql(team=Team.objects.get(name="Team A"), owner=users["rep_a"]),
                   ("accept", users["rep_a"], {}))  # fmt: skip
    before = snapshot(lead)
    value = {"state": "won", "owner": users["coo"].pk, "team": None}.get(field, 1)
    r = client_for(who).patch(f"/api/v1/leads/{lead.pk}/", {field: value, "title": "X"},
                              format="json")  # fmt: skip
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == field
    assert snapshot(lead) == before


@pytest.mark.parametrize(
    ("who", "state", "body", "status"),
    [
        ("marketing", "lead", {"budget": 1}, 403),          # sales fields are sales'
        ("marketing", "sal", {"company": "X"}, 403),        # an SAL is sales' now
        ("rep_a2", "sal", {"budget": 1}, 403),              # a teammate, not the owner
        ("rep_a", "lead", {"company": "X"}, 404),           # not handed to sales: unseen
        ("rep_b", "sal", {"budget": 1}, 404),               # another team's
        ("rep_a", "sal", {"budget": 1, "need": "CRM"}, 200),
        ("manager_a", "sal", {"decision_maker": True}, 200),
        ("marketing", "lead", {"company": "X"}, 200),
    ],
)  # fmt: skip
def test_fields_by_role_and_state(
    users: Any, published_definition: Any, client_for: Any, who: str, state: str, body: Any,
    status: int,
) -> None:  # fmt: skip
    lead = make_lead()
    if state == "sal":
        lead = advance(make_mql(team=Team.objects.get(name="Team A"), owner=users["rep_a"]),
                       ("accept", users["rep_a"], {}))  # fmt: skip
    before = snapshot(lead)
    r = client_for(who).patch(f"/api/v1/leads/{lead.pk}/", body, format="json")
    assert r.status_code == status, r.content
    after = snapshot(lead)
    if status == 200:
        assert {k: after[k] for k in body} != {k: before[k] for k in body}
    else:
        assert after == before


def test_an_intake_cannot_set_lifecycle_fields(key_client: Any, users: Any) -> None:
    for field, value in (("state", "won"), ("owner", 1), ("team", 1), ("won_amount", 5)):
        r = key_client.post("/api/v1/intake/", {"email": "m@example.jp", field: value},
                            format="json")  # fmt: skip
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == field
    assert not Lead.objects.filter(email="m@example.jp").exists()


def test_a_webhook_secret_is_written_but_never_read(client_for: Any, users: Any) -> None:
    body = {"name": "w", "url": "https://h.example.jp/", "secret": "x" * 20, "event_types": ["*"]}
    created = client_for("marketing").post("/api/v1/webhooks/", body, format="json").json()
    assert "secret" not in created
    listed = client_for("coo").get("/api/v1/webhooks/").json()
    assert [w["id"] for w in listed] == [created["id"]] and all("secret" not in w for w in listed)
    r = client_for("coo").patch(f"/api/v1/webhooks/{created['id']}/", {"id": 999},
                                format="json")  # fmt: skip
    assert r.status_code == 400
