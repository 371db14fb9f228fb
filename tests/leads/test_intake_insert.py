"""The one-statement insert of a new lead (PostgreSQL) stores what the ORM would: the given
fields, every other column at its model default, and the lead `lead_intake` returns."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.forms.models import model_to_dict

from leads.models import Lead, LeadScore, RescoreMark, StageDelta, StageEntry
from leads.services.intake import lead_intake
from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

GIVEN: dict[str, Any] = {
    "email": "full@example.co.jp",
    "first_name": "太郎",
    "last_name": "山田",
    "company": "Example 100% KK",  # a '%' is quoted, never read as a placeholder
    "company_size": 120,
    "source": "seminar",
    "campaign": "autumn-2026",
    "consent": True,
    "attributes": {"plan": "enterprise", "seats": 40},
    "budget": Decimal("1200000.50"),
    "decision_maker": True,
    "timeline": date(2027, 3, 31),
    "need": "CRM の刷新",
}
# Lifecycle columns a new lead gets from the model, whatever the caller.
COMPARED = [f.name for f in Lead._meta.concrete_fields if f.name not in ("id",)]


def orm_twin(fields: dict[str, Any], **extra: Any) -> Lead:
    """The lead the ORM would store from the same fields (never saved)."""
    return Lead(**fields, **extra)


def test_given_fields_and_defaults_are_stored_as_the_orm_would() -> None:
    result = lead_intake(fields=dict(GIVEN))
    assert result.created and result.state == "lead"
    stored = Lead.objects.get(pk=result.lead_id)
    expected = model_to_dict(orm_twin(GIVEN), fields=COMPARED)
    got = model_to_dict(stored, fields=COMPARED)
    dynamic = {"created_at", "updated_at", "state_changed_at"}
    assert {k: v for k, v in got.items() if k not in dynamic} == {
        k: v for k, v in expected.items() if k not in dynamic
    }
    assert stored.created_at == stored.updated_at == stored.state_changed_at is not None
    # the returned lead is the stored one, field by field
    assert model_to_dict(result.lead, fields=COMPARED) == got
    assert result.lead.pk == stored.pk and not result.lead._state.adding
    # its score row is there, it is marked for the sweep, its stage entry and funnel delta are open
    score = LeadScore.objects.get(lead_id=stored.pk)
    assert (score.version, score.fit, score.engagement) == (0, 0, 0)
    assert list(RescoreMark.objects.values_list("lead_id", flat=True)) == [stored.pk]
    entry = StageEntry.objects.get(lead_id=stored.pk)
    assert (entry.stage, entry.entered_at, entry.source, entry.campaign) == (
        "lead",
        stored.created_at,
        "seminar",
        "autumn-2026",
    )
    assert StageDelta.objects.filter(stage="lead", source="seminar", entries=1).count() == 1


def test_only_an_email_takes_every_default() -> None:
    result = lead_intake(fields={"email": "bare@example.jp"})
    stored = Lead.objects.get(pk=result.lead_id)
    assert (stored.source, stored.attributes, stored.consent, stored.budget) == (
        "other",
        {},
        False,
        None,
    )
    assert StageEntry.objects.get(lead_id=stored.pk).source == "other"


def test_a_reps_sales_generated_lead_is_owned_by_them(users: Any) -> None:
    rep = users["rep_a"]
    result = lead_intake(fields={"email": "sgl@example.jp", "source": "sales_generated"}, actor=rep)
    stored = Lead.objects.get(pk=result.lead_id)
    assert (stored.owner_id, stored.created_by_id) == (rep.pk, rep.pk)
    assert stored.team is not None and stored.team.name == "Team A"
    assert (result.lead.owner_id, result.lead.team_id) == (rep.pk, stored.team_id)


def test_an_existing_email_inserts_nothing_and_is_updated() -> None:
    first = lead_intake(fields={"email": "twice@example.jp", "company": "Acme"})
    again = lead_intake(fields={"email": "twice@example.jp", "title": "CTO"})
    assert not again.created and again.lead_id == first.lead_id
    assert Lead.objects.count() == 1 and StageEntry.objects.count() == 1
    assert (Lead.objects.get().company, Lead.objects.get().title) == ("Acme", "CTO")


def test_an_unknown_field_is_refused_before_anything_is_written() -> None:
    with pytest.raises(TypeError, match="no_such_field"):
        lead_intake(fields={"email": "x@example.jp", "no_such_field": 1})
    assert not Lead.objects.exists()
