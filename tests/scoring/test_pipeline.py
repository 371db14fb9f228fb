"""Events → rescore on a real worker → automatic MQL; and a broker outage loses nothing."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from leadflow.celery import app
from leads.models import Lead, LeadTransition, RescoreMark
from tests.conftest import requires_worker, wait_for

pytestmark = [
    requires_worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("default_rules"),
]

SEED_EXAMPLE = [
    {"type": "page_view", "properties": {"url": "https://example.co.jp/features/sso"}},
    {"type": "document_download", "properties": {"name": "whitepaper.pdf"}},
    {"type": "quote_request"},
]


def key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def test_seed_example_reaches_mql_by_system(
    celery_worker: Any, published_definition: Any, intake_key: str
) -> None:
    client = key_client(intake_key)
    r = client.post("/api/v1/intake/", {"email": "buyer@acme.co.jp", "company": "Acme", "phone": "03-1234-5678",
                                        "title": "CTO", "industry": "software"}, format="json")  # fmt: skip
    lead_id = r.json()["id"]
    batch = [
        {"lead": lead_id, "id": f"ev-{round_}-{i}", **e}
        for round_ in (1, 2)
        for i, e in enumerate(SEED_EXAMPLE)
    ]
    assert client.post("/api/v1/events/", batch, format="json").json()["accepted"] == 6
    wait_for(lambda: Lead.objects.get(pk=lead_id).state == "mql", what="the automatic MQL")
    lead = Lead.objects.get(pk=lead_id)
    assert lead.engagement_score == 32
    assert not RescoreMark.objects.filter(lead=lead).exists()  # the rescore consumed its marks
    row = LeadTransition.objects.get(lead=lead)
    assert (row.transition, row.actor, row.actor_kind) == ("qualify_mql", None, "system")
    assert row.definition == published_definition
    by_code = {c["code"]: c for c in row.evaluation}
    assert all(c["passed"] for c in row.evaluation)
    assert by_code["engaged"]["observed"] == 32.0
    assert by_code["need"]["observed"] == 2


def _point_broker_at(url: str) -> None:
    app.conf.broker_url = url
    app._pool = None  # drop cached connections so the next publish uses the new URL
    app.amqp._producer_pool = None


def test_broker_outage_during_ingestion_loses_nothing(
    celery_worker: Any, users: Any, intake_key: str
) -> None:
    client = key_client(intake_key)
    ids = [
        client.post("/api/v1/intake/", {"email": f"o{i}@example.jp"}, format="json").json()["id"]
        for i in range(5)
    ]
    good_url = app.conf.broker_url
    _point_broker_at("redis://127.0.0.1:1/0")
    try:
        for n in range(3):  # 3 batches while the broker is unreachable: requests still succeed
            batch = [
                {"lead": lead_id, "type": "quote_request", "id": f"out-{n}-{lead_id}"}
                for lead_id in ids
            ]
            r = client.post("/api/v1/events/", batch, format="json")
            assert r.status_code == 202 and r.json()["accepted"] == 5
        r = client.post(
            "/api/v1/intake/",
            {"email": "o0@example.jp", "events": [{"type": "document_download", "id": "out-d"}]},
            format="json",
        )
        assert r.status_code == 200
    finally:
        _point_broker_at(good_url)
    assert set(
        RescoreMark.objects.filter(lead_id__in=ids).values_list("lead_id", flat=True)
    ) == set(ids)
    assert Lead.objects.filter(pk__in=ids, scores__engagement=0).count() == 5, (
        "nothing was scored during the outage"
    )
    # The broker is back: the periodic sweep (beat sends it every minute) picks up every marked lead.
    from scoring.tasks import score_sweep

    score_sweep.delay()
    wait_for(
        lambda: not RescoreMark.objects.filter(lead_id__in=ids).exists(),
        what="the sweep",
    )
    scores = dict(Lead.objects.filter(pk__in=ids).values_list("pk", "scores__engagement"))
    assert scores == {ids[0]: 29, **{i: 24 for i in ids[1:]}}, "each event scored exactly once"
    # Replaying the same events (a client retry) is deduplicated and changes nothing.
    batch = [
        {"lead": lead_id, "type": "quote_request", "id": f"out-0-{lead_id}"} for lead_id in ids
    ]
    assert client.post("/api/v1/events/", batch, format="json").json() == {
        "accepted": 0,
        "duplicates": 5,
        "rejected": [],
    }
    from leadflow.models import Job
    from scoring.services import score_recompute_enqueue
    from scoring.tasks import score_leads_task

    score_sweep.delay()
    score_leads_task.delay(ids)
    # One solo worker takes the queue in order: when this job is done, so are the tasks above.
    job = score_recompute_enqueue(reason="barrier")
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "succeeded", what="the barrier job")
    assert dict(Lead.objects.filter(pk__in=ids).values_list("pk", "scores__engagement")) == scores


def test_a_job_requested_during_a_broker_outage_runs_when_it_returns(
    celery_worker: Any, users: Any, client_for: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from leadflow.models import Job
    from leadflow.tasks import jobs_requeue_sweep

    good_url = app.conf.broker_url
    _point_broker_at("redis://127.0.0.1:1/0")
    try:
        r = client_for(users["coo"]).post("/api/v1/scoring/recompute/", {}, format="json")
        assert r.status_code == 202, r.content
    finally:
        _point_broker_at(good_url)
    job_id = r.json()["id"]
    assert Job.objects.get(pk=job_id).status == "queued", "nothing could take it"
    assert jobs_requeue_sweep.apply().get() == 0, "too recent: it may still be in the queue"
    Job.objects.filter(pk=job_id).update(updated_at=timezone.now() - timedelta(minutes=10))
    # The broker is back: the beat sweep (every minute) sends the job again.
    assert jobs_requeue_sweep.apply().get() == 1
    wait_for(lambda: Job.objects.get(pk=job_id).status == "succeeded", what="the requeued job")
    assert jobs_requeue_sweep.apply().get() == 0, "a finished job is not sent again"
