"""Sales activities (SPEC §13): a call, an e-mail or a meeting a rep logs on a lead they work.

An activity is an event (`activity.<kind>`, the outcome, note and actor in its properties): it is
on the timeline, counts for `activity_within` criteria and earns points like any event."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _

from leadflow.errors import Forbidden
from leads import access
from leads.event_input import RESERVED_PREFIX
from leads.selectors import lead_access
from leads.services.events import EventInput, event_ingest

if TYPE_CHECKING:
    from django.contrib.auth.models import User

ACTIVITY_PREFIX = RESERVED_PREFIX  # the one writer of these event types


@dataclass(frozen=True)
class Activity:
    lead_id: int
    type: str
    occurred_at: datetime


def activity_log(
    *, lead_id: int, actor: User, kind: str, outcome: str, note: str = "",
    occurred_at: datetime | None = None,
) -> Activity:  # fmt: skip
    """Record an activity by a user who may edit the lead (404 if they may not read it, 403 if
    they may read but not work it); `kind` and `outcome` are validated choices."""
    lead = lead_access(user=actor, lead_id=lead_id)
    if not access.editable_fields(lead, actor):
        raise Forbidden(_("Only who works this lead may log an activity on it."))
    at = occurred_at or timezone.now()
    event_type = f"{ACTIVITY_PREFIX}{kind}"
    properties = {"outcome": outcome, "note": note, "actor": actor.pk}
    event_ingest(
        events=[EventInput(index=0, lead_id=lead.pk, type=event_type, occurred_at=at,
                           properties_json=json.dumps(properties, ensure_ascii=False),
                           external_id=None)]
    )  # fmt: skip
    return Activity(lead_id=lead.pk, type=event_type, occurred_at=at)
