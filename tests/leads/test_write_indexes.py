"""The indexes every event, mark and score write pays for, pinned on PostgreSQL: adding one is a
decision about ingest speed, not a side effect of a field option."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db]


def _indexes(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


def test_an_event_insert_writes_three_indexes(db: Any) -> None:
    indexes = _indexes("leads_event")
    assert sorted(indexes) == ["event_external_id_unique", "event_lead_time", "leads_event_pkey"]
    assert "UNIQUE" in indexes["event_external_id_unique"]
    assert not any("pattern_ops" in d for d in indexes.values())


def test_a_score_write_touches_no_index_and_a_mark_two_small_ones(db: Any) -> None:
    assert list(_indexes("leads_leadscore")) == ["leads_leadscore_pkey"]  # HOT score writes
    marks = _indexes("leads_rescoremark")
    assert len(marks) == 2 and "leads_rescoremark_pkey" in marks
    assert any("(lead_id)" in d for d in marks.values())
