"""The bulk intake (a CSV import's chunk) writes exactly what one `lead_intake` per row, in the
file's order, would: the leads, their score rows and rescore marks, their stage entries and the
funnel's deltas, and the recorded changes (only their `via` differs: import, not intake)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from leads.models import Lead, LeadChange, LeadScore, RescoreMark, StageDelta, StageEntry
from leads.services.intake import lead_intake, lead_intake_bulk

pytestmark = pytest.mark.django_db


def rows(domain: str) -> list[dict[str, Any]]:
    """A file: two rows for one new lead, an update, a change refused by the state, a repeat."""
    return [
        {"email": f"new@{domain}", "first_name": "花子", "company": "New KK", "source": "seminar",
         "budget": Decimal("100")},
        {"email": f"new@{domain}", "company": "New KK 2", "need": "CRM", "campaign": "autumn",
         "source": "web_form"},
        {"email": f"old@{domain}", "title": "CTO", "company": "", "need": "ignored"},
        {"email": f"mql@{domain}", "company": "Changed KK"},
        {"email": f"same@{domain}", "company": "Same KK"},
        {"email": f"other@{domain}", "company": "Other KK", "source": "referral"},
    ]  # fmt: skip


def existing(domain: str) -> None:
    for local, company in [("old", "Old KK"), ("mql", "MQL KK"), ("same", "Same KK")]:
        lead_intake(fields={"email": f"{local}@{domain}", "company": company})
    Lead.objects.filter(email=f"mql@{domain}").update(state="mql")


IGNORED = {"id", "email", "created_at", "updated_at", "state_changed_at"}


def written(domain: str) -> dict[str, Any]:
    """What the leads of one domain hold, keyed by the e-mail's local part."""
    out: dict[str, Any] = {}
    for lead in Lead.objects.filter(email__endswith=f"@{domain}").order_by("email"):
        local = lead.email.split("@")[0]
        fields = {
            f.name: getattr(lead, f.attname)
            for f in Lead._meta.concrete_fields
            if f.name not in IGNORED
        }
        score = LeadScore.objects.filter(lead=lead).values("fit", "engagement", "version").first()
        entries = list(
            StageEntry.objects.filter(lead=lead).values_list(
                "stage", "reentry", "left_at", "next_state", "source", "campaign"
            )
        )
        changes = [
            (c.changes, c.actor_id)
            for c in LeadChange.objects.filter(lead=lead).order_by("occurred_at", "id")
        ]
        marked = RescoreMark.objects.filter(lead=lead).exists()
        out[local] = {"fields": fields, "score": score, "entries": entries, "changes": changes,
                      "marked": marked}  # fmt: skip
    return out


def deltas(campaigns: set[str]) -> Counter[tuple[Any, ...]]:
    rows = StageDelta.objects.filter(campaign__in=campaigns).values_list(
        "stage", "reentry", "bucket", "source", "campaign", "entries", "converted"
    )
    return Counter(rows)


def test_a_file_in_bulk_writes_what_one_intake_per_row_writes(users: dict[str, Any]) -> None:
    marketing = users["marketing"]
    existing("one.example.jp")
    existing("each.example.jp")
    StageDelta.objects.all().delete()
    before = set(LeadChange.objects.values_list("pk", flat=True))

    result = lead_intake_bulk(rows=rows("one.example.jp"), actor=marketing)
    in_bulk = written("one.example.jp")
    bulk_deltas = deltas({"", "autumn"})
    StageDelta.objects.all().delete()
    for row in rows("each.example.jp"):
        lead_intake(fields=row, actor=marketing)
    one_by_one = written("each.example.jp")

    assert in_bulk == one_by_one
    assert deltas({"", "autumn"}) == bulk_deltas
    assert (result.created, result.updated, result.unchanged) == (2, 1, 2)
    # What the file did, as a person reads it:
    new = in_bulk["new"]["fields"]
    assert (new["company"], new["source"], new["campaign"]) == ("New KK 2", "seminar", "autumn")
    assert new["budget"] == Decimal("100") and new["need"] == "", "a marketer's 2nd row: no need"
    assert in_bulk["old"]["fields"]["title"] == "CTO"
    assert in_bulk["old"]["fields"]["company"] == "Old KK", "an empty cell changes nothing"
    assert in_bulk["mql"]["fields"]["company"] == "MQL KK", "marketing does not edit an MQL"
    assert in_bulk["new"]["entries"] == [("lead", False, None, "", "seminar", "")]
    vias = Counter(
        LeadChange.objects.exclude(pk__in=before).values_list("lead__email", "via")
    )  # fmt: skip
    assert vias == {("new@one.example.jp", "import"): 1, ("old@one.example.jp", "import"): 1,
                    ("new@each.example.jp", "intake"): 1, ("old@each.example.jp", "intake"): 1}  # fmt: skip
