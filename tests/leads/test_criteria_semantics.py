"""One semantics for every criterion (SPEC §15): the set-based pre-selection of automatic MQL
never leaves out a lead that the evaluation users read ("why (not) MQL") says passes, whatever
the case, width or spacing of its values; so the leads qualified automatically are exactly
those the evaluation passes."""

from __future__ import annotations

import itertools
from typing import Any

from django.db.models import Q
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.choices import LeadState
from leads.models import Lead
from leads.selectors import definition_published, lead_evaluate
from scoring.services import _auto_mql
from tests.factories import give_events, make_lead, set_engagement

INDUSTRY = st.sampled_from(["software", "Software", " software ", "ＳＯＦＴＷＡＲＥ", "SOFTWARE\t",
                            "manufacturing", "Manufacturing ", "retail", "", "soft ware"])  # fmt: skip
SERIAL = itertools.count()
TEXT = st.sampled_from(["", " ", "株式会社テスト", "Ｃｏ", "x"])
LEAD = st.fixed_dictionaries({
    "industry": INDUSTRY, "company": TEXT, "title": TEXT,
    "phone": st.sampled_from(["", "+81312345678"]),
    "engagement": st.sampled_from([0, 19.99, 20, 35]),
    "quote": st.booleans(),
})  # fmt: skip


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(leads=st.lists(LEAD, min_size=1, max_size=6))
def test_automatic_mql_qualifies_exactly_what_the_evaluation_passes(
    leads: list[dict[str, Any]], users: Any, published_definition: Any
) -> None:
    made = []
    for spec in leads:
        lead = make_lead(email=f"sem{next(SERIAL)}@example.jp", industry=spec["industry"],
                         company=spec["company"], title=spec["title"], phone=spec["phone"])  # fmt: skip
        set_engagement(lead, spec["engagement"])
        if spec["quote"]:
            give_events(lead, "quote_request")
        made.append(lead.pk)
    definition, now = definition_published(), timezone.now()
    passing = {
        pk for pk in made
        if all(c["passed"] for c in lead_evaluate(lead=Lead.objects.get(pk=pk), stage="mql",
                                                   definition=definition, now=now))
    }  # fmt: skip
    _auto_mql(Q(pk__in=made))
    qualified = Lead.objects.filter(pk__in=made, state=LeadState.MQL)
    assert set(qualified.values_list("pk", flat=True)) == passing
