"""Intake (SPEC §8): create or update a lead by its normalised e-mail, with optional events.

The unique constraint on `Lead.email` is what dedupes: a concurrent twin's INSERT finds the e-mail
taken (ON CONFLICT DO NOTHING on PostgreSQL, an IntegrityError in a savepoint elsewhere) and the
request continues as an update of the row that won.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.selectors import rep_team_ids
from leadflow.choices import Role
from leadflow.errors import Conflict, Forbidden
from leadflow.permissions import has_role
from leads.choices import Source
from leads.event_input import EventItem
from leads.models import Lead, LeadScore
from leads.selectors import lead_list, lead_visible_q
from leads.services.events import EventInput, IngestResult, event_ingest, lead_rescore_request
from leads.services.stage_entries import stage_entries_open, stage_entry_open_sql

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


def _new_lead(fields: dict[str, Any], actor: Any) -> Lead | None:
    """Insert a lead with its score row and its `lead` stage entry; None if a lead with this
    e-mail exists (possibly a concurrent twin that committed first)."""
    lead = Lead(**fields, created_by=actor, state_changed_at=timezone.now())
    if fields.get("source") == Source.SALES_GENERATED and has_role(actor, Role.SALES):
        # An SGL belongs to the rep who sourced it, ready to be claimed.
        lead.owner = actor
        team_ids = sorted(rep_team_ids(actor))
        lead.team_id = team_ids[0] if team_ids else None
    if connection.vendor == "postgresql":
        return lead if _insert_in_one_statement(lead) else None
    try:
        with transaction.atomic():
            lead.save(force_insert=True)
            LeadScore.objects.create(lead=lead, needs_rescore=True, rescore_seq=1)
            stage_entries_open([lead])
    except IntegrityError:
        return None
    return lead


@lru_cache(maxsize=1)
def _insert_statement() -> tuple[list[Any], str]:
    """The lead's columns and the statement's text (its CTEs after the lead's own insert), built
    once per process."""
    fields = [f for f in Lead._meta.concrete_fields if not f.primary_key and not f.generated]
    cols = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"""
        WITH new_lead AS (
            INSERT INTO leads_lead ({cols}) VALUES ({placeholders})
            ON CONFLICT (email) DO NOTHING RETURNING id)
        , new_score AS (
            INSERT INTO leads_leadscore (lead_id, fit, engagement, needs_rescore, rescore_seq)
            SELECT id, 0, 0, TRUE, 1 FROM new_lead)
    """  # noqa: S608 - columns come from the model
    return fields, sql


def _insert_in_one_statement(lead: Lead) -> bool:
    """The lead, its score row, its stage entry and the funnel delta in one round trip; the
    e-mail's unique index decides a race (ON CONFLICT DO NOTHING: no row, nothing inserted)."""
    fields, head = _insert_statement()
    values = [f.get_db_prep_save(f.pre_save(lead, True), connection) for f in fields]
    entry_sql, entry_params = stage_entry_open_sql(lead, "new_lead")
    with connection.cursor() as cursor:
        sql = f"{head}{entry_sql} SELECT id FROM new_lead"  # noqa: S608 - fixed fragments
        cursor.execute(sql, [*values, *entry_params])
        row = cursor.fetchone()
    if row is None:
        return False
    lead.pk = row[0]
    lead._state.adding = False
    lead._state.db = connection.alias
    return True


def _apply_update(lead: Lead, fields: dict[str, Any]) -> list[str]:
    """Intake's update rules, in memory: non-empty fields only, first touch kept once set.
    Returns the names of the fields that changed."""
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
    return changed


def _update_lead(lead: Lead, fields: dict[str, Any]) -> None:
    changed = _apply_update(lead, fields)
    if changed:
        lead.save(update_fields=[*changed, "updated_at"])
        lead_rescore_request([lead.pk])  # its fit (and field criteria) may have changed


def lead_intake(
    *, fields: dict[str, Any], events: list[EventItem] | None = None, actor: Any = None
) -> IntakeResult:
    """`fields` are validated and normalised lead fields (email required); `events` are parsed
    event items of this lead."""
    if not events and connection.vendor == "postgresql" and connection.get_autocommit():
        # A new lead is one statement, atomic on its own: no BEGIN/COMMIT round trips. A lead
        # that exists takes the locked update path below.
        new = _new_lead(fields, actor)
        if new is not None:
            return IntakeResult(lead=new, created=True, events=None)
    with transaction.atomic():
        new = _new_lead(fields, actor)
        if new is not None:
            lead, created = new, True
        else:
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


@dataclass(frozen=True)
class BulkIntakeResult:
    created: int
    updated: int
    unchanged: int


def lead_intake_bulk(*, rows: list[dict[str, Any]], actor: Any = None) -> BulkIntakeResult:
    """Intake for many leads at once (CSV import): the rules of `lead_intake` row by row, in
    set-based statements. `rows` are validated, normalised lead fields with an e-mail; a later
    row with the same e-mail updates what an earlier one created. Only for callers who may read
    every lead (marketing, the COO, a system import)."""
    if actor is not None and lead_visible_q(actor) is not None:
        raise Forbidden("Bulk intake needs a role that reads every lead.")
    now = timezone.now()
    with transaction.atomic():
        emails = sorted({row["email"] for row in rows})
        found = {
            lead.email: lead
            for lead in Lead.objects.select_for_update(of=("self",)).filter(email__in=emails)
        }
        new: dict[str, Lead] = {}
        changed: dict[str, set[str]] = {}
        for row in rows:
            lead = found.get(row["email"]) or new.get(row["email"])
            if lead is None:
                new[row["email"]] = Lead(**row, created_by=actor, state_changed_at=now)
            elif lead.pk is None:
                _apply_update(lead, row)
            else:
                changed.setdefault(lead.email, set()).update(_apply_update(lead, row))
        try:
            with transaction.atomic():
                created = Lead.objects.bulk_create(list(new.values()))
        except IntegrityError:
            # A concurrent intake created one of these e-mails first: row by row instead.
            return _intake_one_by_one(rows, actor)
        # Marked, as a single intake's are: the sweep gives them their fit.
        LeadScore.objects.bulk_create(
            [LeadScore(lead=lead, needs_rescore=True, rescore_seq=1) for lead in created]
        )
        stage_entries_open(created)
        updates = [found[email] for email, names in changed.items() if names]
        names = sorted({n for email in changed for n in changed[email]})
        for lead in updates:
            lead.updated_at = now
        if updates:
            Lead.objects.bulk_update(updates, [*names, "updated_at"], batch_size=500)
            lead_rescore_request([lead.pk for lead in updates])  # one mark, one ask
    return BulkIntakeResult(
        created=len(created), updated=len(updates), unchanged=len(found) - len(updates)
    )


def _intake_one_by_one(rows: list[dict[str, Any]], actor: Any) -> BulkIntakeResult:
    created = updated = 0
    for row in rows:
        result = lead_intake(fields=row, actor=actor)
        created += result.created
        updated += not result.created
    return BulkIntakeResult(created=created, updated=updated, unchanged=0)
