"""Definitions: validation with pointers, draft → published → retired, evaluation."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction

from leads.choices import DefinitionStatus
from leads.definitions import validate_document
from leads.models import Definition
from tests.conftest import definition_document
from tests.factories import give_events, make_lead, set_engagement


def bad(doc_edit: Any) -> list[str]:
    doc = definition_document()
    doc_edit(doc)
    return [e.field for e in validate_document(doc)]


def test_the_spec_example_validates() -> None:
    assert validate_document(definition_document()) == []


_BAD_EDITS = [
    pytest.param(*case)
    for case in [
        (
            lambda d: d["stages"]["mql"]["criteria"][1].update(kind="field_like"),
            "stages.mql.criteria.1.kind",
        ),
        (
            lambda d: d["stages"]["mql"]["criteria"][1]["params"].update(field="shoe_size"),
            "stages.mql.criteria.1.params.field",
        ),
        (
            lambda d: d["stages"]["mql"]["criteria"][0]["params"].pop("value"),
            "stages.mql.criteria.0.params.value",
        ),
        (
            lambda d: d["stages"]["mql"]["criteria"][0]["params"].update(score="karma"),
            "stages.mql.criteria.0.params.score",
        ),
        (lambda d: d["stages"]["mql"].update(sla_hours=0), "stages.mql.sla_hours"),
        (lambda d: d["stages"]["sal"].update(sla_hours=-3), "stages.sal.sla_hours"),
        (
            lambda d: d["stages"]["mql"]["criteria"][3]["params"].update(days="30"),
            "stages.mql.criteria.3.params.days",
        ),
        (
            lambda d: d["stages"]["mql"]["criteria"][2]["params"].update(fields=[]),
            "stages.mql.criteria.2.params.fields",
        ),
        (
            lambda d: d["stages"]["mql"]["criteria"][2].update(code="engaged"),
            "stages.mql.criteria.2.code",
        ),
        (
            lambda d: d["stages"]["mql"]["criteria"][2]["params"].update(extra=1),
            "stages.mql.criteria.2.params.extra",
        ),
        (lambda d: d["stages"]["lead"].update(owner="finance"), "stages.lead.owner"),
        (lambda d: d["stages"].update(limbo={"owner": "sales"}), "stages.limbo"),
        (lambda d: d["stages"].pop("sql"), "stages.sql"),
        (lambda d: d["stages"]["recycled"].update(cooloff_days=-1), "stages.recycled.cooloff_days"),
        (
            lambda d: d["stages"]["sql"]["criteria"][0]["params"].update(field="industry"),
            "stages.sql.criteria.0.params.field",
        ),
    ]
]


@pytest.mark.parametrize(("edit", "pointer"), _BAD_EDITS)
def test_invalid_definition_points_to_the_bad_part(edit: Any, pointer: str) -> None:
    assert bad(edit) == [pointer]


def test_create_invalid_definition_is_400_with_pointer(client_for: Any, users: Any) -> None:
    doc = definition_document()
    doc["stages"]["mql"]["criteria"][0]["kind"] = "vibes"
    r = client_for("coo").post("/api/v1/definitions/", {"name": "Bad", **doc}, format="json")
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "document.stages.mql.criteria.0.kind"
    assert not Definition.objects.exists()


def test_draft_publish_retire(client_for: Any, users: Any) -> None:
    coo = client_for("coo")
    first = coo.post(
        "/api/v1/definitions/",
        {"name": "v1", "status": "draft", **definition_document()},
        format="json",
    )
    assert first.status_code == 201, first.content
    d1 = first.json()["id"]
    assert coo.post(f"/api/v1/definitions/{d1}/publish/").json()["status"] == "published"
    # a published definition is no longer editable
    r = coo.patch(f"/api/v1/definitions/{d1}/", {"name": "renamed"}, format="json")
    assert r.status_code == 409
    d2 = coo.post(
        "/api/v1/definitions/", {"name": "v2", **definition_document()}, format="json"
    ).json()["id"]
    assert (
        coo.patch(f"/api/v1/definitions/{d2}/", {"name": "v2 final"}, format="json").json()["name"]
        == "v2 final"
    )
    coo.post(f"/api/v1/definitions/{d2}/publish/")
    assert Definition.objects.get(pk=d1).status == DefinitionStatus.RETIRED
    assert Definition.objects.get(pk=d2).status == DefinitionStatus.PUBLISHED
    assert coo.post(f"/api/v1/definitions/{d1}/publish/").status_code == 409


def test_only_one_published_is_a_database_constraint(users: Any, published_definition: Any) -> None:
    other = Definition.objects.create(name="rogue", document=definition_document())
    with pytest.raises(IntegrityError), transaction.atomic():
        Definition.objects.filter(pk=other.pk).update(status=DefinitionStatus.PUBLISHED)


def test_non_coo_cannot_write_definitions(
    client_for: Any, users: Any, published_definition: Any
) -> None:
    for who in ("marketing", "rep_a", "manager_a"):
        c = client_for(who)
        assert c.get("/api/v1/definitions/").status_code == 200
        assert (
            c.post(
                "/api/v1/definitions/", {"name": "x", **definition_document()}, format="json"
            ).status_code
            == 403
        )
        assert c.post(f"/api/v1/definitions/{published_definition.pk}/publish/").status_code == 403


def test_evaluation_endpoint_explains_why_not(
    client_for: Any, users: Any, published_definition: Any
) -> None:
    lead = make_lead(industry="retail", title="")
    set_engagement(lead, 21)
    r = client_for("marketing").get(f"/api/v1/leads/{lead.pk}/evaluation/?stage=mql")
    assert r.status_code == 200
    body = r.json()
    assert body["passed"] is False and body["definition"] == published_definition.pk
    rows = {c["code"]: c for c in body["criteria"]}
    assert rows["engaged"] == {
        "code": "engaged",
        "kind": "score_at_least",
        "passed": True,
        "observed": 21.0,
        "expected": "engagement ≥ 20",
    }
    assert rows["icp"]["passed"] is False and rows["icp"]["observed"] == "retail"
    assert rows["contactable"]["observed"] == {"missing": ["title"]}
    assert rows["need"]["passed"] is False and rows["need"]["observed"] == 0
    give_events(lead, "demo_request", days_ago=3)
    rows = {
        c["code"]: c
        for c in client_for("marketing")
        .get(f"/api/v1/leads/{lead.pk}/evaluation/")
        .json()["criteria"]
    }
    assert rows["need"]["passed"] is True and rows["need"]["observed"] == 1


def test_evaluation_without_published_definition_is_409(client_for: Any, users: Any) -> None:
    lead = make_lead()
    r = client_for("marketing").get(f"/api/v1/leads/{lead.pk}/evaluation/")
    assert r.status_code == 409
    assert r.json()["type"].endswith("no-published-definition")


def test_old_activity_does_not_count(
    users: Any, published_definition: Any, client_for: Any
) -> None:
    lead = make_lead()
    give_events(lead, "quote_request", days_ago=45)
    rows = {
        c["code"]: c
        for c in client_for("coo").get(f"/api/v1/leads/{lead.pk}/evaluation/").json()["criteria"]
    }
    assert rows["need"]["passed"] is False


def test_the_published_schema_is_json_schema_and_agrees_with_the_validation(
    client_for: Any, users: Any
) -> None:
    """Any client can check a document before sending it: the published schema is standard
    JSON Schema (no private keys), and it accepts and refuses what the API does (only the
    uniqueness of codes is checked beyond it)."""
    from jsonschema import Draft202012Validator

    for who in ("marketing", "rep_a", "manager_a", "coo"):
        assert client_for(who).get("/api/v1/definitions/schema/").status_code == 200
    schema = client_for("rep_a").get("/api/v1/definitions/schema/").json()
    Draft202012Validator.check_schema(schema)
    assert "x-message" not in str(schema)
    client = Draft202012Validator(schema)
    assert client.is_valid(definition_document())
    edits = [p.values[0] for p in _BAD_EDITS]
    for edit in edits:
        doc = definition_document()
        edit(doc)
        ours = [e.code for e in validate_document(doc)]
        assert ours
        assert client.is_valid(doc) == (ours == ["unique"]), ours


def test_a_document_of_every_kind_and_option_validates() -> None:
    doc = definition_document()
    doc["stages"]["sql"]["criteria"] = [
        {"code": "soon", "kind": "date_within", "params": {"field": "timeline", "days": 90,
                                                           "direction": "either"}},
        {"code": "dm", "kind": "field_true", "params": {"field": "decision_maker"}},
        {"code": "money", "kind": "field_at_least", "params": {"field": "budget", "value": 1}},
        {"code": "no_free", "kind": "email_domain_not_in", "params": {"domains": ["gmail.com"]}},
        {"code": "not_edu", "kind": "field_not_in",
         "params": {"field": "attributes.segment", "values": ["edu"]}},
        {"code": "asked", "kind": "activity_within",
         "params": {"types": ["demo_request"], "days": 14, "count": 2}, "label": "Asked twice"},
    ]  # fmt: skip
    doc["stages"]["mql"]["reassign_on_breach"] = True
    assert validate_document(doc) == []
