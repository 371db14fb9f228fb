"""Periods are whole days in TIME_ZONE, both ends included (SPEC §15), in the API and the UI."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from accounts.models import Team
from analytics.periods import period_from
from leadflow.errors import ValidationFailed
from tests.factories import advance, make_lead, make_mql


def test_a_date_is_a_whole_day_in_tokyo_and_the_last_day_is_included() -> None:
    p = period_from({"from": "2026-12-07", "to": "2026-12-07"})
    assert p.start == datetime(2026, 12, 6, 15, 0, tzinfo=UTC), "00:00 in Tokyo"
    assert p.end == datetime(2026, 12, 7, 15, 0, tzinfo=UTC), "the end of the 7th in Tokyo"
    p = period_from({"from": "2026-12-01", "to": "2026-12-07T12:00:00+09:00"})
    assert p.end == datetime(2026, 12, 7, 3, 0, tzinfo=UTC), "a date-time is exact"


def test_the_default_is_the_last_90_whole_days_up_to_and_including_today() -> None:
    with time_machine.travel(datetime(2026, 12, 7, 14, 59, 59, tzinfo=UTC), tick=False):  # 23:59:59
        p = period_from({})
        assert p.end == datetime(2026, 12, 7, 15, 0, tzinfo=UTC), "the end of today in Tokyo"
        assert p.start == datetime(2026, 9, 8, 15, 0, tzinfo=UTC), "00:00 of 9 September"
        assert (p.end - p.start).days == 90
        only_from = period_from({"from": "2026-12-01"})
        assert only_from.end == p.end, "without `to`, today is the last day"
    with time_machine.travel(datetime(2026, 12, 7, 15, 0, tzinfo=UTC), tick=False):  # 00:00
        assert period_from({}).end == datetime(2026, 12, 8, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "bad", [{"from": "2026-12-08", "to": "2026-12-07"}, {"to": "9999-12-31"},
            {"to": "9999-12-31T20:00:00-00:00"}, {"from": "2026-13-40"}],
)  # fmt: skip
def test_impossible_periods_are_refused_with_the_field(bad: dict[str, str]) -> None:
    with pytest.raises(ValidationFailed):
        period_from(bad)


def test_reports_count_events_at_the_day_boundaries_of_tokyo(
    users: Any, published_definition: Any, client_for: Any
) -> None:
    """23:59:59 JST on the 7th is in the 7th; 00:00:00 JST on the 8th is not (UTC 14:59/15:00)."""
    team = Team.objects.get(name="Team A")
    with time_machine.travel(datetime(2026, 12, 7, 14, 59, 59, tzinfo=UTC), tick=False):
        last = make_mql(email="last@example.jp", team=team, owner=users["rep_a"])
    with time_machine.travel(datetime(2026, 12, 7, 15, 0, 0, tzinfo=UTC), tick=False):
        make_lead(email="next@example.jp")
        advance(last, ("accept", users["rep_a"], {}))
    api = client_for("coo")
    day = api.get("/api/v1/reports/funnel/", {"from": "2026-12-07", "to": "2026-12-07"}).json()
    entered = {s["stage"]: s["first"]["entered"] for s in day["stages"]}
    assert (entered["lead"], entered["mql"], entered["sal"]) == (1, 1, 0)
    nxt = api.get("/api/v1/reports/funnel/", {"from": "2026-12-08", "to": "2026-12-08"}).json()
    entered = {s["stage"]: s["first"]["entered"] for s in nxt["stages"]}
    assert (entered["lead"], entered["mql"], entered["sal"]) == (1, 0, 1)


def test_a_win_counts_on_the_day_it_was_won_in_every_figure(
    users: Any, published_definition: Any, client_for: Any
) -> None:
    """The lead was created weeks before; the win is today's: Won, revenue and revenue by
    source all count it today (they did not agree before)."""
    rep = users["rep_a"]
    with time_machine.travel(datetime(2026, 11, 1, 3, 0, tzinfo=UTC), tick=False):
        lead = make_mql(email="w@example.jp", decision_maker=True, budget="5000000",
                        timeline="2027-01-15", team=Team.objects.get(name="Team A"),
                        owner=rep)  # fmt: skip
    with time_machine.travel(datetime(2026, 12, 7, 3, 0, tzinfo=UTC), tick=False):
        advance(lead, ("accept", rep, {}), ("qualify_sql", rep, {}),
                ("win", rep, {"amount": Decimal("4800000")}))  # fmt: skip
    api = client_for("coo")
    q = {"from": "2026-12-01", "to": "2026-12-07"}
    funnel = api.get("/api/v1/reports/funnel/", q).json()
    won = next(s for s in funnel["stages"] if s["stage"] == "won")["first"]["entered"]
    revenue = api.get("/api/v1/reports/revenue/", q).json()
    assert won == revenue["won"] == sum(r["won"] for r in revenue["by_source"]) == 1
    assert Decimal(str(revenue["amount"])) == Decimal(4_800_000)
    assert Decimal(str(revenue["by_campaign"][0]["amount"])) == Decimal(4_800_000)
    other = api.get("/api/v1/reports/revenue/", {**q, "definition": published_definition.pk + 1})
    assert other.json()["won"] == 0, "the version filter applies to revenue too"
