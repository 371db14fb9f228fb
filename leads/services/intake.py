"""Intake (SPEC §8): create or update a lead by its normalised e-mail, with optional events.

The unique constraint on `Lead.email` is what dedupes: a concurrent twin's INSERT finds the e-mail
taken (ON CONFLICT DO NOTHING on PostgreSQL, an IntegrityError in a savepoint elsewhere) and the
request continues as an update of the row that won.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from psycopg import sql

from leadflow.errors import Conflict, Forbidden
from leads import access
from leads.choices import Source
from leads.event_input import EventItem
from leads.models import Lead, LeadChange, LeadScore
from leads.selectors import lead_list
from leads.services.changes import lead_changes_record
from leads.services.events import (
    EventInput,
    IngestResult,
    event_ingest,
    lead_rescore_request,
    lead_score_mark,
)
from leads.services.stage_entries import stage_entries_open, stage_entry_open_sql

if TYPE_CHECKING:
    from leadflow.types import Actor

# First-touch attribution: on an existing lead these are only filled when still empty.
FIRST_TOUCH_FIELDS = frozenset(
    {"source", "campaign", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"}
)


class IntakeResult:
    """What an intake did. `lead` is the lead as stored; for a lead created by the one-statement
    insert it is built when first asked for (the API answers with its id and state only)."""

    def __init__(
        self,
        *,
        lead: Callable[[], Lead],
        lead_id: int,
        state: str,
        created: bool,
        events: IngestResult | None,
    ) -> None:
        self._lead = lead
        self.lead_id = lead_id
        self.state = state
        self.created = created
        self.events = events

    @classmethod
    def of(cls, lead: Lead, *, created: bool, events: IngestResult | None) -> IntakeResult:
        return cls(
            lead=lambda: lead, lead_id=lead.pk, state=lead.state, created=created, events=events
        )

    @cached_property
    def lead(self) -> Lead:
        return self._lead()


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == {} or value == []


def _unset(lead: Lead, name: str) -> bool:
    """Empty, or `source` still at its default `other`."""
    value = getattr(lead, name)
    return _empty(value) or (name == "source" and value == Source.OTHER)


def _new_lead(fields: dict[str, Any], actor: Actor) -> IntakeResult | None:
    """Insert a lead with its score row, its rescore mark and its `lead` stage entry; None if a
    lead with this e-mail exists (possibly a concurrent twin that committed first)."""
    now = timezone.now()
    given = {**fields, "created_by": actor, "state_changed_at": now}
    generated = (Source.SALES_GENERATED, Source.INSIDE_SALES_GENERATED)
    if fields.get("source") in generated and actor is not None and access.is_rep(actor):
        # An SGL (a TGL) belongs to the rep who sourced it, ready to be claimed.
        team_ids = sorted(access.reach(actor).rep_teams)
        given.update(owner=actor, team_id=team_ids[0] if team_ids else None)
    if connection.vendor == "postgresql":
        return _insert_in_one_statement(given, now)
    lead = Lead(**given)
    try:
        with transaction.atomic():
            lead.save(force_insert=True)
            LeadScore.objects.create(lead=lead)
            lead_score_mark([lead.pk])
            stage_entries_open([lead])
    except IntegrityError:
        return None
    return IntakeResult.of(lead, created=True, events=None)


@dataclass(frozen=True)
class _InsertPlan:
    """The lead columns of the one-statement insert, built once per process: each column's
    value is a parameter when given (or set per request), else its default as a literal."""

    fields: list[Any]
    defaults: dict[str, Any]  # field name -> its fixed default (not per-request ones like now)
    literals: dict[str, str]  # field name -> SQL literal of its default
    now_fields: frozenset[str]  # auto_now, auto_now_add, default=timezone.now
    names: frozenset[str]  # what a given value may be keyed on: field names and attnames
    head: str  # "INSERT INTO leads_lead (…) VALUES ("
    tail: str  # ") ON CONFLICT … the score row's and mark's CTEs"


@lru_cache(maxsize=1)
def _insert_plan() -> _InsertPlan:
    fields = [f for f in Lead._meta.concrete_fields if not f.primary_key and not f.generated]
    defaults: dict[str, Any] = {}
    literals: dict[str, str] = {}
    now_fields = set()
    with connection.cursor() as cursor:
        raw = cursor.connection  # the driver's connection: it quotes the literals
        for f in fields:
            auto = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
            if auto or f.default is timezone.now:  # one instant for the whole row
                now_fields.add(f.name)
            elif not f.has_default() or not callable(f.default) or f.default in (dict, list):
                defaults[f.name] = f.get_default()
                prepared = f.get_db_prep_save(defaults[f.name], connection)
                # A literal '%' would read as a placeholder in the statement.
                literals[f.name] = sql.Literal(prepared).as_string(raw).replace("%", "%%")
    cols = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    head = f"WITH new_lead AS (INSERT INTO leads_lead ({cols}) VALUES ("  # noqa: S608 - model columns
    tail = """) ON CONFLICT (email) DO NOTHING RETURNING id)
        , new_score AS (
            INSERT INTO leads_leadscore (lead_id, fit, engagement, version)
            SELECT id, 0, 0, 0 FROM new_lead)
        , new_mark AS (INSERT INTO leads_rescoremark (lead_id) SELECT id FROM new_lead)
    """
    names = frozenset({f.name for f in fields} | {f.attname for f in fields})
    return _InsertPlan(
        fields=fields,
        defaults=defaults,
        literals=literals,
        now_fields=frozenset(now_fields),
        names=names,
        head=head,
        tail=tail,
    )


def _insert_in_one_statement(given: dict[str, Any], now: Any) -> IntakeResult | None:
    """The lead, its score row and mark, its stage entry and the funnel delta in one round trip;
    the e-mail's unique index decides a race (ON CONFLICT DO NOTHING: no row, nothing inserted).
    Only the given columns travel as parameters; the others are their defaults' literals."""
    plan = _insert_plan()
    if unknown := given.keys() - plan.names:
        raise TypeError(f"Lead has no field {', '.join(sorted(unknown))}")
    values: list[str] = []
    params: list[Any] = []
    for f in plan.fields:
        if f.name in given:
            value = given[f.name]
            if f.is_relation and value is not None and not isinstance(value, int):
                value = value.pk
            values.append("%s")
            params.append(f.get_db_prep_save(value, connection))
        elif f.attname in given:  # a foreign key given by id
            values.append("%s")
            params.append(given[f.attname])
        elif f.name in plan.now_fields:
            values.append("%s")
            params.append(now)
        elif f.name in plan.literals:
            values.append(plan.literals[f.name])
        else:
            values.append("%s")
            params.append(f.get_db_prep_save(f.get_default(), connection))
    row = {**plan.defaults, **given}  # the new lead's values, as its stage entry reads them
    entry_sql, entry_params = stage_entry_open_sql(
        entered_at=now, source=row["source"], campaign=row["campaign"], alias="new_lead"
    )
    # Placeholders and literals quoted by the driver: no value is ever spliced in.
    statement = f"{plan.head}{', '.join(values)}{plan.tail}{entry_sql} SELECT id FROM new_lead"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, *entry_params])
        inserted = cursor.fetchone()
    if inserted is None:
        return None
    pk = inserted[0]

    def lead() -> Lead:
        built: Lead = Lead(**given, pk=pk, created_at=now, updated_at=now)
        built._state.adding = False
        built._state.db = connection.alias
        return built

    return IntakeResult(lead=lead, lead_id=pk, state=row["state"], created=True, events=None)


def _apply_update(
    lead: Lead, fields: dict[str, Any], caller: access.IntakeCaller
) -> dict[str, list[Any]]:
    """Intake's update rules, in memory: only the fields the caller may write on this lead in
    its state (`leads.access`), non-empty values only, first touch kept once set, and for an
    anonymous form only what is still empty. Returns the fields that changed, each with its
    value before and after."""
    allowed = access.intake_fields(lead, caller)
    fill_only = access.fill_only(caller)
    changed: dict[str, list[Any]] = {}
    for name, value in fields.items():
        if name == "email" or name not in allowed or _empty(value):
            continue
        if fill_only and not _unset(lead, name):
            continue
        if name in FIRST_TOUCH_FIELDS and not _unset(lead, name):
            continue
        if name == "attributes":
            value = {**(lead.attributes or {}), **value}
        before = getattr(lead, name)
        if before != value:
            setattr(lead, name, value)
            changed[name] = [before, value] if name not in changed else [changed[name][0], value]
    return changed


def _update_lead(
    lead: Lead, fields: dict[str, Any], actor: Actor, caller: access.IntakeCaller
) -> None:
    changed = _apply_update(lead, fields, caller)
    if changed:
        lead.save(update_fields=[*changed, "updated_at"])
        lead_changes_record([(lead.pk, changed)], actor=actor, via=LeadChange.Via.INTAKE)
        lead_rescore_request([lead.pk])  # its fit (and field criteria) may have changed


def lead_intake(
    *,
    fields: dict[str, Any],
    events: list[EventItem] | None = None,
    actor: Actor = None,
    caller: access.IntakeCaller = None,
) -> IntakeResult:
    """`fields` are validated and normalised lead fields (email required); `events` are parsed
    event items of this lead. An existing lead gets what `caller` (the actor, else an API key;
    `access.VISITOR` for a public form) may write of them."""  # fmt: skip
    if not events and connection.vendor == "postgresql" and connection.get_autocommit():
        # A new lead is one statement, atomic on its own: no BEGIN/COMMIT round trips. A lead
        # that exists takes the locked update path below.
        new = _new_lead(fields, actor)
        if new is not None:
            return new
    with transaction.atomic():
        new = _new_lead(fields, actor)
        if new is not None:
            lead, created = new.lead, True
        else:
            lead = Lead.objects.select_for_update(of=("self",)).get(email=fields["email"])
            created = False
            if actor is not None and not lead_list(user=actor).filter(pk=lead.pk).exists():
                # Another team's lead: neither updated nor named (its id is not the caller's).
                raise Conflict("A lead with this e-mail address already exists.") from None
            _update_lead(lead, fields, actor, caller or actor or access.KEY)
        ingest = None
        if events:
            ingest = event_ingest(
                events=[EventInput.of(e, index=i, lead_id=lead.pk) for i, e in enumerate(events)]
            )
    return IntakeResult.of(lead, created=created, events=ingest)


@dataclass(frozen=True)
class BulkIntakeResult:
    created: int
    updated: int
    unchanged: int


def lead_intake_bulk(*, rows: list[dict[str, Any]], actor: Actor = None) -> BulkIntakeResult:
    """Intake for many leads at once (CSV import): what `lead_intake` of each row in turn would
    write (`tests/leads/test_intake_bulk.py` holds the two equal), in set-based statements.
    `rows` are validated, normalised lead fields with an e-mail; a later row with the same
    e-mail updates the lead an earlier one created, as a second intake would. Only for callers
    who may read every lead (marketing, the COO, a system import)."""
    if actor is not None and not access.reach(actor).everything:
        raise Forbidden("Bulk intake needs a role that reads every lead.")
    now = timezone.now()
    caller = actor or access.KEY
    with transaction.atomic():
        emails = sorted({row["email"] for row in rows})
        found = {
            lead.email: lead
            for lead in Lead.objects.select_for_update(of=("self",)).filter(email__in=emails)
        }
        existing = len(found)
        new: dict[str, Lead] = {}
        later: list[dict[str, Any]] = []  # rows of a lead this file creates: once it exists
        changed: dict[str, dict[str, list[Any]]] = {}

        def update(lead: Lead, row: dict[str, Any]) -> None:
            so_far = changed.setdefault(lead.email, {})
            for name, (before, after) in _apply_update(lead, row, caller).items():
                so_far[name] = [so_far[name][0] if name in so_far else before, after]

        for row in rows:
            if row["email"] in found:
                update(found[row["email"]], row)
            elif row["email"] in new:
                later.append(row)
            else:
                new[row["email"]] = Lead(**row, created_by=actor, state_changed_at=now)
        try:
            with transaction.atomic():
                created = Lead.objects.bulk_create(list(new.values()))
        except IntegrityError:
            # A concurrent intake created one of these e-mails first: row by row instead.
            return _intake_one_by_one(rows, actor)
        # Marked, as a single intake's are: the sweep gives them their fit.
        LeadScore.objects.bulk_create([LeadScore(lead=lead) for lead in created])
        lead_score_mark([lead.pk for lead in created])
        stage_entries_open(created)
        for row in later:
            update(new[row["email"]], row)
        leads = {**found, **new}
        updates = [leads[email] for email, names in changed.items() if names]
        names = sorted({n for email in changed for n in changed[email]})
        for lead in updates:
            lead.updated_at = now
        if updates:
            Lead.objects.bulk_update(updates, [*names, "updated_at"], batch_size=500)
            lead_changes_record(
                [(lead.pk, changed[lead.email]) for lead in updates],
                actor=actor, via=LeadChange.Via.IMPORT,
            )  # fmt: skip
            lead_rescore_request([lead.pk for lead in updates])  # one mark, one ask
    updated = sum(1 for lead in updates if lead.email in found)
    return BulkIntakeResult(created=len(created), updated=updated, unchanged=existing - updated)


def _intake_one_by_one(rows: list[dict[str, Any]], actor: Actor) -> BulkIntakeResult:
    created = updated = 0
    for row in rows:
        result = lead_intake(fields=row, actor=actor)
        created += result.created
        updated += not result.created
    return BulkIntakeResult(created=created, updated=updated, unchanged=0)
