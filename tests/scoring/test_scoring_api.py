"""Scoring rules API, the recompute job, and the score breakdown."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from leadflow.jobs import job_run
from leadflow.models import Job
from leads.models import Event, Lead
from scoring import services
from scoring.models import ScoringRule
from tests.factories import make_lead

URL = "/api/v1/scoring-rules/"


def test_default_rules_are_seeded(db: Any) -> None:
    rules = {
        (r.event_type, r.property_key, r.property_value): r.points
        for r in ScoringRule.objects.all()
    }
    assert rules == {
        ("page_view", "url", "/features"): 3,
        ("document_download", "", ""): 5,
        ("quote_request", "", ""): 8,
    }


@pytest.mark.parametrize(
    ("who", "can_write"),
    [("marketing", True), ("coo", True), ("rep_a", False), ("manager_a", False)],
)
def test_rules_crud_by_role(who: str, can_write: bool, client_for: Any, users: Any) -> None:
    c = client_for(who)
    assert c.get(URL).status_code == 200
    body = {
        "kind": "engagement",
        "name": "Webinar",
        "event_type": "webinar_attended",
        "points": "6",
        "half_life_days": "30",
        "cap": "18",
    }
    r = c.post(URL, body, format="json")
    assert r.status_code == (201 if can_write else 403)
    rule_id = r.json()["id"] if can_write else ScoringRule.objects.first().pk  # type: ignore[union-attr]
    assert c.patch(f"{URL}{rule_id}/", {"points": "4"}, format="json").status_code == (
        200 if can_write else 403
    )
    assert c.delete(f"{URL}{rule_id}/").status_code == (204 if can_write else 403)
    assert ScoringRule.objects.filter(pk=rule_id).exists() is not can_write
    if can_write:  # every change enqueued a full recompute
        assert Job.objects.filter(kind="score_recompute").count() == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "engagement", "name": "x", "points": "3"}, "event_type"),
        (
            {
                "kind": "engagement",
                "name": "x",
                "points": "3",
                "event_type": "page_view",
                "property_key": "url",
            },
            "property_key",
        ),
        (
            {
                "kind": "engagement",
                "name": "x",
                "points": "3",
                "event_type": "page_view",
                "half_life_days": "0",
            },
            "half_life_days",
        ),
        (
            {
                "kind": "engagement",
                "name": "x",
                "points": "3",
                "event_type": "page_view",
                "field": "industry",
            },
            "field",
        ),
        (
            {
                "kind": "fit",
                "name": "x",
                "points": "3",
                "field": "shoe_size",
                "operator": "equals",
                "values": ["a"],
            },
            "field",
        ),
        (
            {
                "kind": "fit",
                "name": "x",
                "points": "3",
                "field": "industry",
                "operator": "between",
                "values": [1, 2],
            },
            "values",
        ),
        (
            {
                "kind": "fit",
                "name": "x",
                "points": "3",
                "field": "company_size",
                "operator": "between",
                "values": [None, None],
            },
            "values",
        ),
        (
            {
                "kind": "fit",
                "name": "x",
                "points": "3",
                "field": "industry",
                "operator": "in",
                "values": [],
            },
            "values",
        ),
        (
            {
                "kind": "fit",
                "name": "x",
                "points": "3",
                "operator": "email_domain_in",
                "values": ["nodot"],
            },
            "values",
        ),
        (
            {
                "kind": "fit",
                "name": "x",
                "points": "3",
                "field": "industry",
                "operator": "sounds_like",
                "values": ["a"],
            },
            "operator",
        ),
        ({"kind": "magic", "name": "x", "points": "3"}, "kind"),
        (
            {"kind": "fit", "name": "x", "points": "5000", "field": "title", "operator": "present"},
            "points",
        ),
        (
            {
                "kind": "fit",
                "name": "x",
                "points": "1",
                "field": "title",
                "operator": "present",
                "colour": "red",
            },
            "colour",
        ),
    ],
)
def test_invalid_rules_are_400_at_the_field(
    body: dict[str, Any], field: str, client_for: Any, users: Any
) -> None:
    before = ScoringRule.objects.count()
    r = client_for("marketing").post(URL, body, format="json")
    assert r.status_code == 400, r.content
    assert field in {e["field"] for e in r.json()["errors"]}
    assert ScoringRule.objects.count() == before
    assert not Job.objects.exists()


def test_recompute_endpoint_returns_a_job(client_for: Any, users: Any) -> None:
    r = client_for("coo").post("/api/v1/scoring/recompute/")
    assert r.status_code == 202
    job = r.json()
    assert (job["kind"], job["status"], job["progress"]) == ("score_recompute", "queued", 0.0)
    assert client_for("coo").get(f"/api/v1/jobs/{job['id']}/").json()["id"] == job["id"]
    assert client_for("marketing").get(f"/api/v1/jobs/{job['id']}/").status_code == 404, (
        "another user's job"
    )
    assert client_for("rep_a").post("/api/v1/scoring/recompute/").status_code == 403


def test_job_progress_advances_and_result_is_recorded(db: Any, settings: Any) -> None:
    settings.SCORING_CHUNK_SIZE = 3
    leads = [make_lead() for _ in range(10)]
    for lead in leads:
        Event.objects.create(lead=lead, type="quote_request", occurred_at=timezone.now())
    job = Job.objects.create(kind="score_recompute")
    seen: list[float] = []

    def work(report: Any) -> Any:
        def spy(p: float) -> None:
            report(p)
            seen.append(Job.objects.get(pk=job.pk).progress)

        return services.score_recompute(report=spy)

    done = job_run(job_id=job.pk, work=work)
    assert seen == sorted(seen) and len(seen) == 4 and seen[0] < 1 and seen[-1] == 1.0
    assert done.status == "succeeded" and done.result["changed"] == 10
    assert set(Lead.objects.values_list("scores__engagement", flat=True)) == {8}
    assert job_run(job_id=job.pk, work=work).status == "succeeded", (
        "a redelivered job does not run again"
    )
    assert len(seen) == 4


def test_failed_job_records_the_error(db: Any) -> None:
    job = Job.objects.create(kind="score_recompute")

    def boom(report: Any) -> Any:
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        job_run(job_id=job.pk, work=boom)
    job.refresh_from_db()
    assert job.status == "failed" and "disk on fire" in job.error


def test_score_breakdown_explains_the_stored_score(client_for: Any, users: Any) -> None:
    ScoringRule.objects.create(
        kind="fit", name="ICP", points=10, field="industry", operator="in", values=["software"]
    )
    ScoringRule.objects.filter(event_type="document_download").update(half_life_days=7)
    lead = make_lead(industry="software")
    now = timezone.now()
    e1 = Event.objects.create(
        lead=lead,
        type="page_view",
        occurred_at=now - timedelta(days=1),
        properties={"url": "/features/a"},
    )
    Event.objects.create(
        lead=lead, type="page_view", occurred_at=now, properties={"url": "/pricing"}
    )
    e3 = Event.objects.create(
        lead=lead, type="document_download", occurred_at=now - timedelta(days=7)
    )
    services.score_leads(lead_ids=[lead.pk])
    body = client_for("marketing").get(f"/api/v1/leads/{lead.pk}/score/").json()
    assert body["fit_score"] == 10.0
    assert body["engagement_score"] == pytest.approx(5.5, abs=0.01)
    assert body["score"] == pytest.approx(body["fit_score"] + body["engagement_score"])
    assert body["computed"] == {"fit": body["fit_score"], "engagement": body["engagement_score"]}
    by_name = {r["name"]: r for r in body["engagement"]}
    assert [e["id"] for e in by_name["Feature page view"]["events"]] == [e1.pk]
    assert by_name["Feature page view"]["points"] == 3.0
    assert [e["id"] for e in by_name["Document download"]["events"]] == [e3.pk]
    assert by_name["Document download"]["events"][0]["value"] == pytest.approx(2.5, abs=0.001)
    assert by_name["Quote request"]["points"] == 0
    assert body["fit"][0]["matched_value"] == "software"
    assert sum(r["points"] for r in body["engagement"]) == pytest.approx(
        body["engagement_score"], abs=0.01
    )
    assert client_for("rep_b").get(f"/api/v1/leads/{lead.pk}/score/").status_code == 404


def test_auto_mql_after_recompute_in_bulk(users: Any, published_definition: Any) -> None:
    from leads.models import LeadTransition

    ready = [make_lead(industry="software") for _ in range(3)]
    not_icp = make_lead(industry="retail")
    for lead in [*ready, not_icp]:
        for t in ("quote_request", "quote_request", "document_download"):
            Event.objects.create(lead=lead, type=t, occurred_at=timezone.now() - timedelta(days=1))
    result = services.score_recompute()
    assert result["mql"] == 3
    assert set(Lead.objects.filter(state="mql").values_list("pk", flat=True)) == {
        lead.pk for lead in ready
    }
    rows = LeadTransition.objects.filter(transition="qualify_mql")
    assert rows.count() == 3 and all(
        r.actor_kind == "system" and all(c["passed"] for c in r.evaluation) for r in rows
    )
    assert services.score_recompute()["mql"] == 0, "already MQL: nothing moves twice"


def test_a_second_copy_of_a_running_job_does_nothing_until_the_run_is_stale(
    db: Any, settings: Any
) -> None:
    from leadflow.jobs import job_create

    job = job_create(kind="score_recompute")
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)  # a worker is at it
    calls: list[int] = []
    copy = job_run(job_id=job.pk, work=lambda report: calls.append(1))
    assert copy.status == "running" and calls == [], "a requeued copy does not run it twice"
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    stale = timezone.now() - timedelta(seconds=timeout + 1)
    Job.objects.filter(pk=job.pk).update(updated_at=stale)  # that worker died long ago
    assert job_run(job_id=job.pk, work=lambda report: calls.append(1)).status == "succeeded"
    assert calls == [1]
