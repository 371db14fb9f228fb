"""The history is append-only in PostgreSQL itself: UPDATE and DELETE are refused by a trigger,
whoever sends them, and nothing the history refers to can be deleted from under it."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError

from leads.models import Lead, LeadTransition
from tests.conftest import requires_postgres
from tests.factories import make_mql

pytestmark = requires_postgres


def _history(users: Any) -> LeadTransition:
    lead = make_mql()
    return LeadTransition.objects.filter(lead=lead).latest("id")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE leads_leadtransition SET to_state = 'won' WHERE id = %s",
        "UPDATE leads_leadtransition SET evaluation = '[]'::jsonb WHERE id = %s",
        "DELETE FROM leads_leadtransition WHERE id = %s",
    ],
)
def test_raw_update_and_delete_are_refused(
    published_definition: Any, users: Any, statement: str
) -> None:
    row = _history(users)
    before = LeadTransition.objects.filter(pk=row.pk).values().get()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [row.pk])
    assert LeadTransition.objects.filter(pk=row.pk).values().get() == before


def test_orm_update_and_delete_are_refused(published_definition: Any, users: Any) -> None:
    row = _history(users)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LeadTransition.objects.filter(pk=row.pk).update(note="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LeadTransition.objects.filter(pk=row.pk).delete()
    assert LeadTransition.objects.get(pk=row.pk).note == row.note


def test_what_the_history_refers_to_cannot_be_deleted(
    published_definition: Any, users: Any
) -> None:
    row = _history(users)
    with pytest.raises(ProtectedError):
        Lead.objects.filter(pk=row.lead_id).delete()
    assert Lead.objects.filter(pk=row.lead_id).exists()
    assert LeadTransition.objects.filter(pk=row.pk).exists()
