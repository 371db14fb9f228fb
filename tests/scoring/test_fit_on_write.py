"""A lead's fit is scored when the lead is written, not only when it acts: a new lead is marked
for rescoring by its own insert (the sweep scores it), and an edit asks for a rescore at once."""

from __future__ import annotations

from typing import Any

import pytest

from leads.models import Lead, LeadScore, LeadTransition, RescoreMark
from leads.services.definitions import definition_create, definition_publish
from leads.services.intake import lead_intake_bulk
from scoring.choices import RuleKind
from scoring.models import ScoringRule
from scoring.services import score_sweep
from tests.conftest import definition_document

pytestmark = pytest.mark.django_db


@pytest.fixture
def software_fit(db: Any) -> ScoringRule:
    return ScoringRule.objects.create(
        kind=RuleKind.FIT, name="software", points=15, field="industry", operator="equals",
        values=["software"],
    )  # fmt: skip


@pytest.fixture
def fit_only_definition(users: dict[str, Any]) -> Any:
    """An MQL that asks only who the lead is: fit ≥ 10 and a company."""
    document = definition_document()
    document["stages"]["mql"]["criteria"] = [
        {"code": "fit", "kind": "score_at_least", "params": {"score": "fit", "value": 10}},
        {"code": "named", "kind": "fields_present", "params": {"fields": ["company"]}},
    ]
    d = definition_create(name="Fit only", document=document, actor=users["coo"])
    return definition_publish(definition_id=d.pk)


def test_a_new_lead_is_fit_scored_and_qualified_by_the_sweep(
    key_client: Any, software_fit: ScoringRule, fit_only_definition: Any
) -> None:
    r = key_client.post("/api/v1/intake/", {"email": "cto@acme.co.jp", "company": "Acme",
                                            "industry": "software"}, format="json")  # fmt: skip
    assert r.status_code == 201
    other = key_client.post("/api/v1/intake/", {"email": "x@retail.co.jp", "company": "Retail",
                                                "industry": "retail"}, format="json")  # fmt: skip
    lead = Lead.objects.get(pk=r.json()["id"])
    assert RescoreMark.objects.filter(lead=lead).count() == 1  # marked by the insert itself

    assert score_sweep()["leads"] == 2

    lead.refresh_from_db()
    assert (lead.fit_score, lead.engagement_score, lead.state) == (15, 0, "mql")
    assert not RescoreMark.objects.filter(lead=lead).exists()
    row = LeadTransition.objects.get(lead=lead)
    assert (row.transition, row.actor_kind, row.definition) == (
        "qualify_mql", "system", fit_only_definition,
    )  # fmt: skip
    assert {c["code"]: c["passed"] for c in row.evaluation} == {"fit": True, "named": True}
    rest = Lead.objects.get(pk=other.json()["id"])
    assert (rest.fit_score, rest.state) == (0, "lead")
    assert score_sweep()["leads"] == 0  # nothing left marked


def test_an_edit_asks_for_a_rescore_of_that_lead(
    key_client: Any, client_for: Any, software_fit: ScoringRule,
    django_capture_on_commit_callbacks: Any, monkeypatch: Any,
) -> None:  # fmt: skip
    asked: list[list[int]] = []
    monkeypatch.setattr("scoring.services.task_send", lambda task, *args: asked.append(args[0]))
    lead_id = key_client.post(
        "/api/v1/intake/", {"email": "ops@acme.co.jp", "industry": "retail"}, format="json"
    ).json()["id"]
    score_sweep()
    assert Lead.objects.get(pk=lead_id).fit_score == 0

    with django_capture_on_commit_callbacks(execute=True):
        r = client_for("marketing").patch(
            f"/api/v1/leads/{lead_id}/", {"industry": "software"}, format="json"
        )
    assert r.status_code == 200
    assert asked == [[lead_id]]  # one rescore asked for, after the commit
    assert RescoreMark.objects.filter(lead_id=lead_id).count() == 1  # the sweep consumed the first

    with django_capture_on_commit_callbacks(execute=True):  # intake's update of the same lead
        key_client.post("/api/v1/intake/", {"email": "ops@acme.co.jp", "industry": "software"},
                        format="json")  # fmt: skip
    assert asked == [[lead_id]]  # nothing changed, so nothing asked
    with django_capture_on_commit_callbacks(execute=True):
        key_client.post("/api/v1/intake/", {"email": "ops@acme.co.jp", "title": "CTO"},
                        format="json")  # fmt: skip
    assert asked == [[lead_id], [lead_id]]

    score_sweep()
    assert Lead.objects.get(pk=lead_id).fit_score == 15


def test_a_bulk_intake_marks_what_it_creates_and_asks_once_for_what_it_changes(
    users: dict[str, Any], software_fit: ScoringRule,
    django_capture_on_commit_callbacks: Any, monkeypatch: Any,
) -> None:  # fmt: skip
    asked: list[list[int]] = []
    monkeypatch.setattr("scoring.services.task_send", lambda task, *args: asked.append(args[0]))
    first = lead_intake_bulk(rows=[{"email": f"b{i}@acme.co.jp", "industry": "retail"}
                                   for i in range(3)], actor=users["marketing"])  # fmt: skip
    assert first.created == 3
    # each new lead has its score row and one mark
    assert sorted(RescoreMark.objects.values_list("lead_id", flat=True)) == sorted(
        LeadScore.objects.values_list("lead_id", flat=True)
    )
    assert LeadScore.objects.count() == 3
    score_sweep()

    with django_capture_on_commit_callbacks(execute=True):
        again = lead_intake_bulk(
            rows=[{"email": "b0@acme.co.jp", "industry": "software"},
                  {"email": "b1@acme.co.jp", "industry": "software"},
                  {"email": "b2@acme.co.jp", "industry": "retail"}],
            actor=users["marketing"],
        )  # fmt: skip
    assert (again.updated, again.unchanged) == (2, 1)
    changed = sorted(Lead.objects.filter(email__in=["b0@acme.co.jp", "b1@acme.co.jp"])
                     .values_list("pk", flat=True))  # fmt: skip
    assert asked == [changed]  # one ask for the chunk, not one per lead
    score_sweep()
    fits = dict(Lead.objects.values_list("email", "scores__fit"))
    assert fits == {"b0@acme.co.jp": 15, "b1@acme.co.jp": 15, "b2@acme.co.jp": 0}
