"""Histories whose truth is planted, for the advisor's tests and the COO's journey."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from leads.services.transitions import TransitionArgs, lead_transition


def close(lead: Any, rep: Any, won: bool) -> None:
    """Accept the MQL, then win it (through SQL) or disqualify it."""
    lead_transition(lead_id=lead.pk, name="accept", actor=rep)
    if won:
        lead_transition(lead_id=lead.pk, name="qualify_sql", actor=rep)
        lead_transition(lead_id=lead.pk, name="win", actor=rep,
                        args=TransitionArgs(amount=Decimal(1_000_000)))  # fmt: skip
    else:
        lead_transition(lead_id=lead.pk, name="disqualify", actor=rep,
                        args=TransitionArgs(reason="no_budget"))  # fmt: skip


def industry_history(users: dict[str, Any]) -> Counter[tuple[str, str, bool]]:
    """Rep A's closed MQLs: 40 manufacturing of which 24 are won (60%), 40 software of which 8
    (20%); each source holds exactly half of each industry's wins and losses."""
    from accounts.models import Team
    from tests.factories import make_mql

    team, rep = Team.objects.get(name="Team A"), users["rep_a"]
    outcomes: Counter[tuple[str, str, bool]] = Counter()
    for industry, wins in (("manufacturing", 24), ("software", 8)):
        for i in range(40):
            won, source = i < wins, ("seminar", "ad")[i % 2]
            lead = make_mql(team=team, owner=rep, industry=industry, source=source,
                            decision_maker=True, budget="1000000", timeline="2027-03-01",
                            email=f"{industry}{i}@example.co.jp")  # fmt: skip
            close(lead, rep, won)
            outcomes[(industry, source, won)] += 1
    return outcomes


def won_mql(users: dict[str, Any], n: int, industry: str = "manufacturing") -> None:
    """One more of rep A's MQLs, won."""
    from accounts.models import Team
    from tests.factories import make_mql

    rep = users["rep_a"]
    lead = make_mql(team=Team.objects.get(name="Team A"), owner=rep, industry=industry,
                    decision_maker=True, budget="1000000", timeline="2027-03-01",
                    email=f"later{n}@example.co.jp")  # fmt: skip
    close(lead, rep, True)


def _assign(lead: Any, team: Any, rep: Any) -> None:
    """Hand the lead to `rep` of `team`, as the handoff service would (what `make_mql` does)."""
    from django.db import transaction

    from handoff.models import Handoff
    from leads.models import Lead
    from leads.services.derived import leads_changing

    with transaction.atomic(), leads_changing([lead.pk]):
        Lead.objects.filter(pk=lead.pk).update(team=team, owner=rep)
        Handoff.objects.filter(lead=lead, status="open").update(team=team, assignee=rep)


# The engagement a lead reaches, by whether it asked for a quote (the `need` criterion's event):
# 13 or 26 points, from the default rules (quote 8, download 5, feature page 3).
PLANS = {
    (True, 13): ["quote_request", "document_download"],
    (True, 26): ["quote_request", *["document_download"] * 3, "page_view"],
    (False, 13): ["document_download", "document_download", "page_view"],
    (False, 26): [*["document_download"] * 4, "page_view", "page_view"],
}


def advisor_history(users: dict[str, Any], *, rejected: bool = False) -> dict[str, Any]:
    """The planted truth. 200 leads became MQLs under v1 (engagement ≥ 10, no `need`) and were
    won or lost: manufacturing wins 60%, software 20%; half asked for a quote (`need`), which
    changes nothing; 30% reached 13 points, the rest 26, which changes nothing either. Then the
    COO published v2 (engagement ≥ 20 and `need`): its threshold turns away 30% of the wins, and
    `need` half of them for nothing. With `rejected`, sales rejected every other lost lead of 26
    points at its MQL (citing `engaged`) instead of accepting it."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import Team
    from leads.models import Event, Lead
    from leads.services.definitions import definition_create, definition_publish
    from scoring.services import score_leads
    from tests.conftest import definition_document
    from tests.factories import make_lead

    v2 = definition_document()
    v1 = definition_document()
    v1["stages"]["mql"]["criteria"] = [c for c in v1["stages"]["mql"]["criteria"]
                                       if c["code"] != "need"]  # fmt: skip
    v1["stages"]["mql"]["criteria"][0]["params"]["value"] = 10
    coo, team, rep = users["coo"], Team.objects.get(name="Team A"), users["rep_a"]
    definition_publish(definition_id=definition_create(name="v1", document=v1, actor=coo).pk)
    when = timezone.now() - timedelta(days=2)
    truth = {}
    for industry, wins in (("manufacturing", 3), ("software", 1)):
        for k in range(100):
            need, low, won = (k // 5) % 2 == 0, k // 10 < 3, k % 5 < wins
            lead = make_lead(industry=industry, email=f"{industry}{k}@example.co.jp",
                             decision_maker=True, budget="1000000", timeline="2027-03-01")  # fmt: skip
            Event.objects.bulk_create(
                Event(lead=lead, type=t, occurred_at=when + timedelta(minutes=i),
                      properties={"url": "https://example.co.jp/features"})
                for i, t in enumerate(PLANS[(need, 13 if low else 26)])
            )  # fmt: skip
            score_leads(lead_ids=[lead.pk])
            assert Lead.objects.get(pk=lead.pk).state == "mql"
            _assign(lead, team, rep)
            rejects = rejected and not low and not won and k % 2 == 0
            if rejects:
                lead_transition(lead_id=lead.pk, name="reject", actor=rep,
                                args=TransitionArgs(reason="engaged"))  # fmt: skip
            else:
                close(lead, rep, won)
            truth[lead.pk] = (industry, need, low, won, rejects)
    v2_id = definition_create(name="v2", document=v2, actor=coo).pk
    return {"truth": truth, "v2": definition_publish(definition_id=v2_id)}


# The predictive score's planted truth: the odds of winning are exp(-2.2) times e^2.8 for a
# manufacturer and (1 + webinars)^1.5 for the webinars attended in the 90 days before the MQL.
# Source and country are noise; meetings happen only after the MQL of a lead that is won, so a
# model that looked past the MQL moment would learn them instead.
PLANTED_LOGIT = {"intercept": -2.2, "manufacturing": 2.8, "webinar_per_log": 1.5}


def model_history(*, leads: int = 800, days: int = 200, seed: int = 7) -> dict[int, dict[str, Any]]:
    """`leads` closed leads written straight into the tables the training reads (leads, their
    events and their MQL and outcome transitions; history is append-only, so its times are set
    as it is written), their outcomes spread over the last `days` days. Returns each lead's
    planted facts by id."""
    import math
    import random
    from datetime import timedelta

    from django.utils import timezone

    from leadflow.choices import Function
    from leads.choices import ActorKind, LeadState, Source, TransitionName
    from leads.models import Event, Lead, LeadTransition

    rng = random.Random(seed)
    now = timezone.now()
    facts: list[dict[str, Any]] = []
    for k in range(leads):
        industry = rng.choice(["manufacturing", "software", "retail", "finance"])
        webinars = rng.choice([0, 0, 1, 3])
        logit = (PLANTED_LOGIT["intercept"]
                 + PLANTED_LOGIT["manufacturing"] * (industry == "manufacturing")
                 + PLANTED_LOGIT["webinar_per_log"] * math.log1p(webinars))  # fmt: skip
        won = rng.random() < 1 / (1 + math.exp(-logit))
        closed = now - timedelta(days=days * (k + 0.5) / leads)  # the older, the lower the id
        facts.append({
            "industry": industry, "webinars": webinars, "won": won, "closed": closed,
            "mql": closed - timedelta(days=10),
            "source": rng.choice([Source.WEB_FORM, Source.SEMINAR, Source.AD]),
            "country": rng.choice(["JP", "US"]),
        })  # fmt: skip
    facts.reverse()  # ids in the order of time
    rows = Lead.objects.bulk_create(
        Lead(email=f"planted{k}@example.co.jp", industry=f["industry"], source=f["source"],
             country=f["country"], state=LeadState.WON if f["won"] else LeadState.RECYCLED)
        for k, f in enumerate(facts)
    )  # fmt: skip
    events, history = [], []
    for lead, f in zip(rows, facts, strict=True):
        f["lead"] = lead
        events += [Event(lead=lead, type="webinar_attended", properties={},
                         occurred_at=f["mql"] - timedelta(days=5 + i))
                   for i in range(f["webinars"])]  # fmt: skip
        events += [Event(lead=lead, type="page_view", properties={},
                         occurred_at=f["mql"] - timedelta(days=1 + rng.randrange(30)))
                   for _ in range(rng.randrange(4))]  # fmt: skip
        if f["won"]:
            events += [Event(lead=lead, type="activity.meeting", properties={},
                             occurred_at=f["mql"] + timedelta(days=2 + i)) for i in range(3)]  # fmt: skip
        steps = [(TransitionName.QUALIFY_MQL, LeadState.LEAD, LeadState.MQL, f["mql"]),
                 ((TransitionName.WIN, LeadState.SQL, LeadState.WON) if f["won"]
                  else (TransitionName.DISQUALIFY, LeadState.SAL, LeadState.RECYCLED))
                 + (f["closed"],)]  # fmt: skip
        history += [
            LeadTransition(lead=lead, transition=name, from_state=a, to_state=b, occurred_at=t,
                           actor_kind=ActorKind.SYSTEM, responsible_before=Function.MARKETING,
                           responsible_after=Function.SALES)
            for name, a, b, t in steps
        ]  # fmt: skip
    Event.objects.bulk_create(events)
    LeadTransition.objects.bulk_create(history)
    return {f["lead"].pk: f for f in facts}
