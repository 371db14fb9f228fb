"""Reads. `lead_access` is the permission-checked fetch: what a role may not read is 404."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import F, Q, QuerySet

from leadflow.errors import NoPublishedDefinition, NotFound
from leads import access
from leads.choices import DefinitionStatus
from leads.definitions import evaluate_stage
from leads.models import Definition, Event, Lead, LeadTransition

if TYPE_CHECKING:
    from leadflow.types import Caller


def lead_visible_q(user: Caller) -> Q | None:
    """The filter of leads the user may read; None means all of them."""
    return access.scope_q(user, owner="owner_id", team="team_id")


def lead_list(*, user: Caller) -> QuerySet[Lead]:
    qs: QuerySet[Lead] = Lead.objects.annotate(
        score_total=F("scores__total"), score_win=F("scores__win_probability")
    )
    q = lead_visible_q(user)
    return qs if q is None else qs.filter(q)


def lead_access(*, user: Caller, lead_id: int, for_update: bool = False) -> Lead:
    """The lead if the user may read it; otherwise 404, exactly as if it did not exist."""
    qs = lead_list(user=user).select_related("definition", "owner", "team")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    try:
        return qs.get(pk=lead_id)
    except (Lead.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(f"No lead {lead_id}.") from exc


def definition_published() -> Definition | None:
    return Definition.objects.filter(status=DefinitionStatus.PUBLISHED).first()


def definition_published_or_409() -> Definition:
    definition = definition_published()
    if definition is None:
        raise NoPublishedDefinition("Publish a definition first.")
    return definition


def definition_list() -> QuerySet[Definition]:
    return Definition.objects.select_related("created_by").all()


def definition_get(*, definition_id: int) -> Definition:
    try:
        return Definition.objects.get(pk=definition_id)
    except (Definition.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(f"No definition {definition_id}.") from exc


def lead_activity_counter(lead: Lead) -> Any:
    def count(types: list[str], since: datetime) -> int:
        return Event.objects.filter(lead=lead, type__in=types, occurred_at__gte=since).count()

    return count


def lead_evaluate(
    *, lead: Lead, stage: str, definition: Definition, now: datetime
) -> list[dict[str, Any]]:
    """Why is (or isn't) this lead at `stage` under `definition`: one row per criterion."""
    return evaluate_stage(
        lead, definition.document, stage, now=now, activity=lead_activity_counter(lead)
    )


def lead_timeline(*, lead: Lead, before: datetime | None, limit: int) -> list[dict[str, Any]]:
    """Events and transitions of the lead, newest first, merged on their time."""
    events = Event.objects.filter(lead=lead)
    history = LeadTransition.objects.filter(lead=lead).select_related("actor", "definition")
    if before is not None:
        events = events.filter(occurred_at__lt=before)
        history = history.filter(occurred_at__lt=before)
    items: list[dict[str, Any]] = [
        {"kind": "event", "at": e.occurred_at, "event": e}
        for e in events.order_by("-occurred_at", "-id")[:limit]
    ]
    items += [
        {"kind": "transition", "at": t.occurred_at, "transition": t}
        for t in history.order_by("-occurred_at", "-id")[:limit]
    ]
    items.sort(key=lambda item: item["at"], reverse=True)
    return items[:limit]


def lead_history(*, lead: Lead, limit: int) -> list[dict[str, Any]]:
    """The lead page's timeline: its events and transitions, the changes of its fields (who
    changed what, through what) and its creation, newest first."""
    from leads.models import LeadChange

    items = lead_timeline(lead=lead, before=None, limit=limit)
    items += [
        {"kind": "change", "at": c.occurred_at, "change": c}
        for c in LeadChange.objects.filter(lead=lead).select_related("actor")[:limit]
    ]
    items.append({"kind": "created", "at": lead.created_at, "lead": lead})
    items.sort(key=lambda item: item["at"], reverse=True)
    return items[:limit]


def _writable_leads(user: Caller | None) -> QuerySet[Lead]:
    """Leads a caller may attach events to: all for an API key (user None), else what the user
    may read — another team's lead is as unknown as a lead that does not exist."""
    return Lead.objects.all() if user is None else lead_list(user=user)


def lead_ids_by_email(emails: set[str], *, user: Caller | None = None) -> dict[str, int]:
    if not emails:
        return {}
    return dict(_writable_leads(user).filter(email__in=emails).values_list("email", "pk"))


def lead_ids_existing(ids: set[int], *, user: Caller | None = None) -> set[int]:
    if not ids:
        return set()
    return set(_writable_leads(user).filter(pk__in=ids).values_list("pk", flat=True))
