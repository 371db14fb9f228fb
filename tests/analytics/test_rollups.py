"""The funnel's daily rollups: kept in step with the stage entries, folded by the compaction
without loss, and read together with the raw entries of partial days."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from analytics.funnel import GROUPS, funnel_report, split_days
from analytics.periods import period_from
from leads.models import StageDelta, StageRollup
from leads.services.stage_entries import (
    DIMENSION_KEYS,
    stage_rollups_compact,
    stage_rollups_rebuild,
)
from tests.conftest import requires_postgres, run_parallel

FIELDS = ("dimension", "key", "day", "stage", "reentry", "bucket", "entries", "converted")
PERIODS = [
    {"from": "2026-09-01", "to": "2026-12-31"},  # whole days only
    {"from": "2026-09-03T15:30:00+09:00", "to": "2026-10-20T08:00:00+09:00"},
    {"from": "2026-09-10T23:59:00+09:00", "to": "2026-09-11T00:01:00+09:00"},  # no whole day
    {"from": "2026-09-20T00:00:00Z", "to": "2026-11-02"},  # UTC midnight is 09:00 in Tokyo
]


def rollup_rows() -> list[tuple[Any, ...]]:
    return sorted(StageRollup.objects.exclude(entries=0, converted=0).values_list(*FIELDS))


def raw(period: dict[str, str], group_by: str | None) -> dict[str, Any]:
    """The same report computed from the stage entries alone (the path of scoped roles)."""
    return funnel_report(period=period_from(period), group_by=group_by, scope=("AND 1=1", []))


def rolled(period: dict[str, str], group_by: str | None) -> dict[str, Any]:
    return funnel_report(period=period_from(period), group_by=group_by, scope=("", []))


def test_the_compaction_folds_the_deltas_into_what_a_rebuild_makes(history: Any) -> None:
    assert StageDelta.objects.exists(), "the transitions wrote deltas"
    assert not StageRollup.objects.exists()
    stage_rollups_compact()
    assert not StageDelta.objects.exists()
    kept = rollup_rows()
    assert kept
    stage_rollups_rebuild()
    assert rollup_rows() == kept
    assert {row[0] for row in kept} == {"", *DIMENSION_KEYS} == {"", *GROUPS}, "every dimension"


@pytest.mark.parametrize("group_by", [None, *GROUPS])
def test_rollups_and_partial_days_give_the_figures_of_the_raw_entries(
    history: Any, group_by: str | None
) -> None:
    for period in PERIODS:
        expected = raw(period, group_by)
        assert rolled(period, group_by) == expected, ("deltas pending", period)
    stage_rollups_compact()
    for period in PERIODS:
        assert rolled(period, group_by) == raw(period, group_by), ("compacted", period)


def test_split_days_in_the_report_time_zone() -> None:
    days, edges = split_days(period_from(PERIODS[1]))
    assert days is not None
    assert [d.isoformat() for d in days] == ["2026-09-04", "2026-10-20"]
    tokyo = ZoneInfo("Asia/Tokyo")
    assert edges == [
        (datetime(2026, 9, 3, 15, 30, tzinfo=tokyo), datetime(2026, 9, 4, tzinfo=tokyo)),
        (datetime(2026, 10, 20, tzinfo=tokyo), datetime(2026, 10, 20, 8, tzinfo=tokyo)),
    ]
    assert split_days(period_from(PERIODS[2]))[0] is None


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_compactions_count_every_delta_once(intake_key: str) -> None:
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {intake_key}")
    for i in range(60):
        body = {"email": f"r{i}@example.jp", "source": ["ad", "seminar"][i % 2]}
        assert client.post("/api/v1/intake/", body, format="json").status_code == 201
    assert StageDelta.objects.count() == 60
    run_parallel(6, lambda i: stage_rollups_compact())
    assert not StageDelta.objects.exists()
    kept = rollup_rows()
    assert sum(r[6] for r in kept if r[0] == "") == 60
    stage_rollups_rebuild()
    assert rollup_rows() == kept
