"""Test data through the real services (STYLE §14)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import factory
from django.db import transaction
from django.utils import timezone

from accounts.models import Team
from leads.models import Lead, LeadScore
from leads.services.events import EventInput, event_ingest
from leads.services.intake import lead_intake
from leads.services.transitions import TransitionArgs, lead_transition


class LeadFieldsFactory(factory.DictFactory):
    email = factory.Sequence(lambda n: f"lead{n}@example.co.jp")
    first_name = "Taro"
    last_name = "Yamada"
    last_name_kana = "ヤマダ"
    company = factory.Sequence(lambda n: f"Example {n} KK")
    title = "Manager"
    phone = "+81312345678"
    industry = "software"
    source = "web_form"


def make_lead(**fields: Any) -> Lead:
    return lead_intake(fields=LeadFieldsFactory(**fields)).lead


def give_events(lead: Lead, *types: str, days_ago: int = 1) -> None:
    when = timezone.now() - timedelta(days=days_ago)
    event_ingest(
        events=[
            EventInput(
                index=i,
                lead_id=lead.pk,
                type=t,
                occurred_at=when,
                properties_json="{}",
                external_id=None,
            )
            for i, t in enumerate(types)
        ]
    )


def set_engagement(lead: Lead, value: float) -> None:
    """Scores are owned by the scoring engine; tests of the lifecycle set them directly."""
    LeadScore.objects.filter(lead=lead).update(engagement=value)


def make_mql(*, team: Team | None = None, owner: Any = None, **fields: Any) -> Lead:
    """A lead that passes the published MQL criteria, qualified by the system and handed to
    `team`/`owner` (assignment belongs to the handoff service; here it is set directly). One
    transaction: a real worker's rescore, sent when it commits, finds the lead already an MQL
    (it cannot overwrite the engagement set here before the qualification reads it)."""
    with transaction.atomic():
        lead = make_lead(**fields)
        set_engagement(lead, 25)
        give_events(lead, "quote_request")
        lead_transition(lead_id=lead.pk, name="qualify_mql", actor=None)
    from handoff.models import Handoff
    from leads.services.derived import leads_changing

    with transaction.atomic(), leads_changing([lead.pk]):  # the figures follow, as they would
        Lead.objects.filter(pk=lead.pk).update(team=team, owner=owner)
        Handoff.objects.filter(lead=lead, status="open").update(team=team, assignee=owner)
    return Lead.objects.get(pk=lead.pk)


def advance(lead: Lead, *steps: tuple[str, Any, dict[str, Any]]) -> Lead:
    for name, actor, kwargs in steps:
        lead = lead_transition(
            lead_id=lead.pk, name=name, actor=actor, args=TransitionArgs(**kwargs)
        )
    return lead
