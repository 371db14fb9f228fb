"""Who changed which fields of a lead, and through what: an edit, an intake, an import."""

from __future__ import annotations

from typing import Any

from leads.models import LeadChange
from leads.services.intake import lead_intake, lead_intake_bulk
from leads.services.leads import lead_update
from tests.factories import make_lead


def test_an_edit_records_each_changed_field_before_and_after(users: Any) -> None:
    lead = make_lead(email="c@example.jp", company="旧社名", title="Manager")
    lead_update(lead_id=lead.pk, actor=users["coo"],
                fields={"company": "新社名", "title": "Manager", "budget": "1000000"})  # fmt: skip
    change = LeadChange.objects.get(lead=lead)
    assert (change.via, change.actor) == ("edit", users["coo"])
    assert change.changes == {"company": ["旧社名", "新社名"], "budget": [None, "1000000"]}, (
        "an unchanged field is not recorded"
    )


def test_an_intake_and_an_import_of_existing_leads_record_what_they_changed(
    users: Any,
) -> None:
    lead = make_lead(email="i@example.jp", company="", department="営業部")
    assert not LeadChange.objects.exists(), "a new lead is its creation, not a change"
    lead_intake(fields={"email": "i@example.jp", "company": "インテーク社"})
    lead_intake_bulk(rows=[{"email": "i@example.jp", "department": "開発部"}],
                     actor=users["marketing"])  # fmt: skip
    rows = list(LeadChange.objects.filter(lead=lead).order_by("id").values_list(
        "via", "actor", "changes"))  # fmt: skip
    assert rows == [
        ("intake", None, {"company": ["", "インテーク社"]}),
        ("import", users["marketing"].pk, {"department": ["営業部", "開発部"]}),
    ]
