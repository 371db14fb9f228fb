"""The predictive score (SPEC §14) on a history whose truth is planted (`tests.planted.
model_history`): a manufacturer's odds of winning are e^2.2 times the others', each webinar
attended before the MQL raises them, source and country are noise, and meetings (after the MQL,
only for won leads) must not be learned. The model is checked against that truth, its held-out
AUC against a count made apart, its SQL scores against the Python explanation."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from analytics import prediction
from analytics.models import WinModel
from leads.models import Event, LeadScore
from tests.factories import make_lead
from tests.planted import model_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(db: Any) -> dict[int, dict[str, Any]]:
    return model_history()


def _weights(model: WinModel) -> dict[tuple[str, str], float]:
    c = model.coefficients
    found = {(r["attribute"], r["value"]): r["weight"] for r in c["categories"]}
    found |= {("events", r["type"]): r["weight"] for r in c["events"]}
    return found


def _auc_counted(pairs: list[tuple[float, bool]]) -> float:
    """The AUC as the share of (won, lost) pairs the won lead outranks (ties count half)."""
    won = [p for p, w in pairs if w]
    lost = [p for p, w in pairs if not w]
    wins = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in won for b in lost)
    return wins / (len(won) * len(lost))


def test_the_model_learns_the_planted_truth_and_holds_on_the_recent_period(
    history: dict[int, dict[str, Any]],
) -> None:
    model = prediction.train()
    assert model.status == WinModel.Status.TRAINED
    wins = sum(f["won"] for f in history.values())
    assert (model.leads, model.wins) == (len(history), wins)
    assert model.train_leads + model.holdout_leads == len(history)
    assert model.holdout_leads == pytest.approx(0.2 * len(history), abs=2)
    # The held-out leads are the most recent outcomes.
    recent = sorted(history.values(), key=lambda f: f["closed"])[-model.holdout_leads :]
    assert model.holdout_from == recent[0]["closed"]
    assert model.holdout_wins == sum(f["won"] for f in recent)
    weights = _weights(model)
    strongest = max(weights, key=lambda k: abs(weights[k]))
    assert strongest == ("industry", "manufacturing")
    assert weights[("events", "webinar_attended")] > 0.5
    # Meetings came after the MQL: the model never saw them.
    assert weights[("events", "activity.meeting")] == 0
    for noise in [k for k in weights if k[0] in ("source", "country")]:
        assert abs(weights[noise]) < 0.5, noise
    assert model.auc is not None and model.auc >= 0.75

    # The AUC again, counted pair by pair from the stored weights and each held-out lead's
    # planted facts (its industry and webinars before the MQL, nothing else changes its logit).
    def logit(f: dict[str, Any]) -> float:
        total = model.coefficients["intercept"]
        total += weights.get(("industry", f["industry"]), 0.0)
        total += weights.get(("source", f["source"]), 0.0)
        total += weights.get(("country", f["country"]), 0.0)
        pages = Event.objects.filter(lead=f["lead"], type="page_view").count()
        total += weights[("events", "webinar_attended")] * math.log1p(f["webinars"])
        total += weights[("events", "page_view")] * math.log1p(pages)
        return total

    counted = _auc_counted([(logit(f), f["won"]) for f in recent])
    assert model.auc == pytest.approx(counted, abs=1e-9)
    # Calibration: every held-out lead in one band, each band's actual rate from its leads.
    bands = model.calibration
    assert sum(b["leads"] for b in bands) == model.holdout_leads
    assert sum(b["won"] for b in bands) == model.holdout_wins
    for b in bands:
        assert b["low"] <= b["predicted"] < b["high"] or b["predicted"] == b["high"] == 1.0
        assert b["actual"] == round(b["won"] / b["leads"], 4)


def test_each_lead_is_explained_by_its_planted_feature_first(
    history: dict[int, dict[str, Any]],
) -> None:
    model = prediction.train()
    fresh = []
    for k, (industry, webinars) in enumerate(
        [("manufacturing", 0)] * 5 + [("retail", 3)] * 5 + [("software", 0)] * 5
    ):
        lead = make_lead(email=f"fresh{k}@example.co.jp", industry=industry)
        Event.objects.bulk_create(
            Event(lead=lead, type="webinar_attended", properties={},
                  occurred_at=timezone.now() - timedelta(days=3 + i))
            for i in range(webinars)
        )  # fmt: skip
        fresh.append((lead, industry, webinars))
    prediction.score_all()
    for lead, industry, webinars in fresh:
        why = prediction.explain(lead)
        assert why is not None and why["model"] == model.pk
        first = why["factors"][0]
        if industry == "manufacturing":
            assert (first["feature"], first["value"]) == ("industry", "manufacturing")
            assert first["contribution"] > 0.2
        elif webinars:
            assert (first["feature"], first["value"], first["count"]) == (
                "events",
                "webinar_attended",
                3,
            )
            assert first["contribution"] > 0.1
        # The stored score (SQL) is the explanation's probability (Python).
        stored = LeadScore.objects.get(lead=lead)
        assert stored.win_model == model.pk
        assert stored.win_probability == pytest.approx(why["probability"], abs=5e-5)
    manufacturing = [LeadScore.objects.get(lead=lead).win_probability for lead, i, _ in fresh
                     if i == "manufacturing"]  # fmt: skip
    software = [LeadScore.objects.get(lead=lead).win_probability for lead, i, _ in fresh
                if i == "software"]  # fmt: skip
    assert min(manufacturing) > 2 * max(software)


def test_below_fifty_wins_there_is_no_model_and_no_score(db: Any) -> None:
    history = model_history(leads=120, seed=3)
    wins = sum(f["won"] for f in history.values())
    assert wins < prediction.MIN_WINS
    model = prediction.train()
    assert (model.status, model.wins, model.auc) == (WinModel.Status.NOT_ENOUGH_HISTORY, wins, None)
    assert prediction.active_model() is None
    lead = make_lead(industry="manufacturing")
    prediction.score_all()
    assert prediction.explain(lead) is None
    assert LeadScore.objects.get(lead=lead).win_probability is None


def _fresh(email: str, industry: str, webinars: int) -> Any:
    lead = make_lead(email=email, industry=industry)
    Event.objects.bulk_create(
        Event(lead=lead, type="webinar_attended", properties={},
              occurred_at=timezone.now() - timedelta(days=3 + i))
        for i in range(webinars)
    )  # fmt: skip
    return lead


def test_a_rescore_scores_the_lead_and_a_probability_criterion_lets_it_through_with_the_model(
    history: dict[int, dict[str, Any]], users: dict[str, Any]
) -> None:
    from leads.models import Lead, LeadTransition
    from leads.services.definitions import definition_create, definition_publish
    from scoring.services import score_leads
    from tests.conftest import definition_document

    model = prediction.train()
    document = definition_document()
    document["stages"]["mql"]["criteria"] = [
        {"code": "likely", "kind": "probability_at_least", "params": {"value": 0.5}}
    ]
    definition_publish(
        definition_id=definition_create(name="p", document=document, actor=users["coo"]).pk
    )
    likely = _fresh("likely@example.co.jp", "manufacturing", 3)
    unlikely = _fresh("unlikely@example.co.jp", "software", 0)
    score_leads(lead_ids=[likely.pk, unlikely.pk])
    likely, unlikely = Lead.objects.get(pk=likely.pk), Lead.objects.get(pk=unlikely.pk)
    assert likely.win_probability > 0.5 > unlikely.win_probability
    assert (likely.win_model, unlikely.win_model) == (model.pk, model.pk)
    assert (likely.state, unlikely.state) == ("mql", "lead")
    # The MQL records the probability it passed on and the model that gave it.
    mql = LeadTransition.objects.get(lead=likely, to_state="mql")
    assert mql.evaluation == [{
        "code": "likely", "kind": "probability_at_least", "passed": True,
        "observed": likely.win_probability, "expected": "win probability ≥ 0.5",
        "model": model.pk,
    }]  # fmt: skip
    # A webinar later raises the software lead's score at its next rescore.
    before = unlikely.win_probability
    Event.objects.create(lead=unlikely, type="webinar_attended", properties={},
                         occurred_at=timezone.now())  # fmt: skip
    score_leads(lead_ids=[unlikely.pk])
    after = Lead.objects.get(pk=unlikely.pk).win_probability
    assert after > before
    assert after == pytest.approx(prediction.explain(unlikely)["probability"], abs=5e-5)


def test_a_probability_criterion_must_be_a_probability(users: dict[str, Any]) -> None:
    from leads.definitions import validate_document
    from tests.conftest import definition_document

    document = definition_document()
    document["stages"]["mql"]["criteria"] = [
        {"code": "likely", "kind": "probability_at_least", "params": {"value": 1.5}}
    ]
    problems = validate_document(document)
    assert [(p.field, p.message) for p in problems] == [
        ("stages.mql.criteria.0.params.value", "Must be a probability between 0 and 1.")
    ]


def test_the_api_gives_the_model_to_the_coo_and_each_lead_s_reasons_within_its_scope(
    history: dict[int, dict[str, Any]],
    users: dict[str, Any],
    client_for: Any,
    eager_tasks: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from accounts.models import Team
    from leads.models import Lead

    coo, rep = client_for("coo"), client_for("rep_a")
    before = coo.get("/api/v1/reports/win-model/").json()
    assert (before["status"], before["min_wins"], before["auc"]) == ("none", 50, None)
    assert rep.get("/api/v1/reports/win-model/").status_code == 403
    assert rep.post("/api/v1/reports/win-model/train/").status_code == 403
    _fresh("early@example.co.jp", "manufacturing", 0)  # a lead with its score row, as intake makes
    with django_capture_on_commit_callbacks(execute=True):
        response = coo.post("/api/v1/reports/win-model/train/")
    assert response.status_code == 202
    job = coo.get(f"/api/v1/jobs/{response.json()['id']}/").json()
    assert job["status"] == "succeeded"
    scored = LeadScore.objects.filter(win_probability__isnull=False).count()
    assert (job["result"]["scored"], job["result"]["changed"]) == (LeadScore.objects.count(), 1)
    assert scored == 1
    model = WinModel.objects.get()
    card = coo.get("/api/v1/reports/win-model/").json()
    assert (card["status"], card["version"], card["auc"]) == ("trained", model.pk, model.auc)
    assert card["weights"][0] == {"feature": "industry", "value": "manufacturing",
                                  "weight": _weights(model)[("industry", "manufacturing")]}  # fmt: skip
    assert sum(b["leads"] for b in card["calibration"]) == card["holdout_leads"]
    # Every lead was scored by the job; a rep reads its own lead's reasons, not another team's.
    ours = _fresh("ours@example.co.jp", "manufacturing", 0)
    theirs = _fresh("theirs@example.co.jp", "manufacturing", 0)
    Lead.objects.filter(pk=ours.pk).update(team=Team.objects.get(name="Team A"),
                                           owner=users["rep_a"])  # fmt: skip
    Lead.objects.filter(pk=theirs.pk).update(team=Team.objects.get(name="Team B"))
    prediction.score_all()
    body = rep.get(f"/api/v1/leads/{ours.pk}/win-probability/").json()
    assert body["model"] == model.pk and body["win_probability"] == pytest.approx(
        body["probability_now"], abs=5e-5
    )
    assert (body["factors"][0]["feature"], body["factors"][0]["value"]) == (
        "industry",
        "manufacturing",
    )
    listed = rep.get("/api/v1/leads/", {"ordering": "-win_probability"}).json()["results"]
    assert [r["id"] for r in listed] == [ours.pk]
    assert listed[0]["win_probability"] == body["win_probability"]
    assert rep.get(f"/api/v1/leads/{theirs.pk}/win-probability/").status_code == 404


def test_a_long_history_is_read_every_k_th_lead(
    history: dict[int, dict[str, Any]], monkeypatch: Any
) -> None:
    monkeypatch.setattr(prediction, "MAX_ROWS", 300)  # 800 closed leads: every 3rd by id
    model = prediction.train()
    sampled = [pk for pk in history if pk % 3 == 0]
    assert (model.leads, model.wins) == (800, sum(f["won"] for f in history.values()))
    assert model.train_leads + model.holdout_leads == len(sampled)
    assert model.holdout_wins == sum(
        history[pk]["won"]
        for pk in sorted(sampled, key=lambda pk: history[pk]["closed"])[-model.holdout_leads :]
    )
