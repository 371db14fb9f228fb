"""Intake (SPEC §8): create or update a lead by its normalised e-mail, with optional events.

The unique constraint on `Lead.email` is what dedupes: a concurrent twin's INSERT fails inside a
savepoint and the request continues as an update of the row that won.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.selectors import rep_team_ids
from leadflow.choices import Role
from leadflow.errors import Conflict
from leadflow.permissions import has_role
from leads.choices import Source
from leads.event_input import EventItem
from leads.models import Lead, LeadScore
from leads.selectors import lead_list
from leads.services.events import EventInput, IngestResult, event_ingest
from leads.services.stage_entries import stage_entries_open

# First-touch attribution: on an existing lead these are only filled when still empty.
FIRST_TOUCH_FIELDS = frozenset(
    {"source", "campaign", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"}
)


@dataclass(frozen=True)
class IntakeResult:
    lead: Lead
    created: bool
    events: IngestResult | None


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == {} or value == []


def _unset(lead: Lead, name: str) -> bool:
    """Empty, or `source` still at its default `other`."""
    value = getattr(lead, name)
    return _empty(value) or (name == "source" and value == Source.OTHER)


def _new_lead(fields: dict[str, Any], actor: Any) -> Lead:
    lead = Lead(**fields, created_by=actor, state_changed_at=timezone.now())
    if fields.get("source") == Source.SALES_GENERATED and has_role(actor, Role.SALES):
        # An SGL belongs to the rep who sourced it, ready to be claimed.
        lead.owner = actor
        team_ids = sorted(rep_team_ids(actor))
        lead.team_id = team_ids[0] if team_ids else None
    lead.save(force_insert=True)
    LeadScore.objects.create(lead=lead)
    stage_entries_open([lead])
    return lead


def _update_lead(lead: Lead, fields: dict[str, Any]) -> None:
    changed: list[str] = []
    for name, value in fields.items():
        if name == "email" or _empty(value):
            continue
        if name in FIRST_TOUCH_FIELDS and not _unset(lead, name):
            continue
        if name == "attributes":
            value = {**(lead.attributes or {}), **value}
        if getattr(lead, name) != value:
            setattr(lead, name, value)
            changed.append(name)
    if changed:
        lead.save(update_fields=[*changed, "updated_at"])


def lead_intake(
    *, fields: dict[str, Any], events: list[EventItem] | None = None, actor: Any = None
) -> IntakeResult:
    """`fields` are validated and normalised lead fields (email required); `events` are parsed
    event items of this lead."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                lead, created = _new_lead(fields, actor), True
        except IntegrityError:
            lead = Lead.objects.select_for_update(of=("self",)).get(email=fields["email"])
            created = False
            if actor is not None and not lead_list(user=actor).filter(pk=lead.pk).exists():
                # Another team's lead: neither updated nor named (its id is not the caller's).
                raise Conflict("A lead with this e-mail address already exists.") from None
            _update_lead(lead, fields)
        ingest = None
        if events:
            ingest = event_ingest(
                events=[
                    EventInput(
                        index=i,
                        lead_id=lead.pk,
                        type=e.type,
                        occurred_at=e.occurred_at,
                        properties_json=e.properties_json,
                        external_id=e.external_id,
                    )
                    for i, e in enumerate(events)
                ]
            )
    return IntakeResult(lead=lead, created=created, events=ingest)
