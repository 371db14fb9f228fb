"""The advisor's "what predicts winning" (SPEC §14) on a history whose truth is planted: among
closed MQLs manufacturing wins three times as often as software, while the source says nothing;
the advisor ranks the planted finding first, with intervals that a plain computation repeats."""

from __future__ import annotations

import math
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from analytics.advisor import wilson
from leads.services.transitions import TransitionArgs, lead_transition
from tests.factories import make_mql

pytestmark = pytest.mark.django_db


def close(lead: Any, rep: Any, won: bool) -> None:
    lead_transition(lead_id=lead.pk, name="accept", actor=rep)
    if won:
        lead_transition(lead_id=lead.pk, name="qualify_sql", actor=rep)
        lead_transition(lead_id=lead.pk, name="win", actor=rep,
                        args=TransitionArgs(amount=Decimal(1_000_000)))  # fmt: skip
    else:
        lead_transition(lead_id=lead.pk, name="disqualify", actor=rep,
                        args=TransitionArgs(reason="no_budget"))  # fmt: skip


@pytest.fixture
def planted(users: dict[str, Any], published_definition: Any) -> dict[str, Any]:
    """40 manufacturing MQLs of which 24 are won (60%), 40 software of which 8 (20%); each
    source holds exactly half of each industry's wins and losses."""
    from accounts.models import Team

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
    return {"outcomes": outcomes}


def test_the_planted_industry_is_ranked_first_and_the_source_is_not(
    planted: dict[str, Any], client_for: Any
) -> None:
    body = client_for("coo").get("/api/v1/reports/advisor/", {"stage": "mql"}).json()
    assert (body["leads"], body["won"], body["base_rate"]) == (80, 32, 0.4)
    first, second = body["attributes"][:2]
    assert {(first["attribute"], first["value"]), (second["attribute"], second["value"])} == {
        ("industry", "manufacturing"), ("industry", "software")
    }  # fmt: skip
    rows = {(r["attribute"], r["value"]): r for r in body["attributes"]}
    m, s = rows[("industry", "manufacturing")], rows[("industry", "software")]
    assert m["win_rate"] / s["win_rate"] == pytest.approx(3.0)
    assert (m["lift"], s["lift"]) == (1.5, 0.5)
    assert m["significant"] and s["significant"] and m["gain"] == 8.0
    for source in ("seminar", "ad"):
        r = rows[("source", source)]
        assert (r["lift"], r["gain"], r["significant"]) == (1.0, 0.0, False), "says nothing"
    # The interval by the textbook formula, computed apart.
    n, k, z = 40, 24, 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert m["interval"] == [round(centre - half, 4), round(centre + half, 4)]
    assert wilson(0, 0) is None


def test_the_advisor_reads_within_the_role_and_refuses_a_wrong_stage(
    planted: dict[str, Any], client_for: Any
) -> None:
    assert client_for("rep_b").get("/api/v1/reports/advisor/").json()["leads"] == 0
    assert client_for("rep_a").get("/api/v1/reports/advisor/").json()["leads"] == 80
    r = client_for("coo").get("/api/v1/reports/advisor/", {"stage": "won"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "stage"
    sql = client_for("coo").get("/api/v1/reports/advisor/", {"stage": "sql"}).json()
    assert (sql["leads"], sql["won"]) == (32, 32), "only the won ones reached SQL here"
