"""The only caller of lifecycle transitions (STYLE §4): lock, check, run, clean, save, history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed, get_available_user_FIELD_transitions

from accounts.models import Team
from accounts.selectors import rep_team_ids
from leadflow.choices import Function
from leadflow.errors import (
    ConcurrentUpdate,
    FieldError,
    Forbidden,
    NoPublishedDefinition,
    NotFound,
    TransitionNotAvailable,
    ValidationFailed,
)
from leads.access import Can, may
from leads.choices import ActorKind, LeadState, TransitionName
from leads.lifecycle import TransitionInput
from leads.models import Definition, Lead, LeadTransition
from leads.selectors import definition_published, lead_access, lead_evaluate
from leads.services.derived import leads_changing
from leads.services.stage_entries import stage_entries_move

if TYPE_CHECKING:
    from leadflow.types import Actor, Caller

# The stage whose criteria a qualifying transition must pass.
CRITERIA_STAGE = {
    TransitionName.QUALIFY_MQL: LeadState.MQL,
    TransitionName.QUALIFY_TQL: LeadState.TQL,
    TransitionName.QUALIFY_SQL: LeadState.SQL,
}


@dataclass
class TransitionHooks:
    """What apps above leads plug into every transition, so that leads never imports them.

    `assign` picks (team_id, owner_id) among the teams of a function (inside sales or field
    sales) for a lead about to enter mql or tql; `in_transaction` callables
    run after the history row, inside the same transaction (a handoff opens or closes with the
    transition, or not at all); `after_commit` callables run once it committed (notifications,
    webhooks, enqueues)."""

    assign: Callable[[Lead, str], tuple[int | None, int | None]] | None = None
    in_transaction: list[Callable[[Lead, LeadTransition], None]] = field(default_factory=list)
    after_commit: list[Callable[[Lead, LeadTransition], None]] = field(default_factory=list)


hooks = TransitionHooks()


@dataclass(frozen=True)
class TransitionArgs:
    reason: str = ""
    note: str = ""
    amount: Decimal | None = None
    override: bool = False


def transition_method(lead: Lead, name: str) -> Any:
    if name not in TransitionName.values:
        raise NotFound(_("No transition %r.") % name)
    return getattr(lead, name)


def _routed_elsewhere(lead: Lead, name: str) -> bool:
    """An MQL is answered by the side its definition hands it to (SPEC §13): `is_accept` when
    inside sales owns mql, `accept` otherwise."""
    if lead.state != LeadState.MQL or name not in (TransitionName.ACCEPT, TransitionName.IS_ACCEPT):
        return False
    through_is = lead.definition is not None and lead.definition.has_inside_sales
    return through_is == (name == TransitionName.ACCEPT)


def available_transitions(lead: Lead, user: Caller) -> list[str]:
    """Transitions the user may run on the lead now (state, routing, conditions, permission)."""
    state_field = Lead._meta.get_field("state")
    return [
        t.name
        for t in get_available_user_FIELD_transitions(lead, user, state_field)
        if not _routed_elsewhere(lead, t.name)
    ]


def _check(lead: Lead, name: str, method: Any, actor: Actor, args: TransitionArgs) -> None:
    """In the order of SPEC §10: an edge the state lacks, or one the lead's definition does not
    route it through (409), a role that may not run it (403), its conditions (409); through
    django-fsm-2's public API only."""
    if not can_proceed(method, check_conditions=False):
        raise TransitionNotAvailable(
            _("“%(name)s” is not possible for a lead in state “%(state)s”.")
            % {"name": TransitionName(name).label, "state": LeadState(lead.state).label}
        )
    if _routed_elsewhere(lead, name):
        # The definition the lead qualified under routes it (a later one without inside sales
        # strands nothing: what inside sales holds, it finishes).
        other = (
            TransitionName.ACCEPT if name == TransitionName.IS_ACCEPT else TransitionName.IS_ACCEPT
        )
        raise TransitionNotAvailable(
            (_("This MQL goes to inside sales first: use “%s”.") if name == TransitionName.ACCEPT
             else _("This MQL goes to field sales: use “%s”.")) % other.label
        )  # fmt: skip
    edge = next(
        t for t in lead.get_all_state_transitions()  # type: ignore[attr-defined]
        if t.name == name and t.source in (lead.state, "*", "+")
    )  # fmt: skip
    if actor is not None and not edge.has_perm(lead, actor):
        raise Forbidden(_("Your role may not '%s' this lead.") % name)
    if not can_proceed(method):
        detail = {
            TransitionName.QUALIFY_MQL: _("The recycling cool-off has not elapsed yet."),
            TransitionName.CLAIM: _("Only sales-generated leads can be claimed."),
            TransitionName.IS_CLAIM: _("Only inside-sales-generated leads can be claimed."),
        }.get(TransitionName(name), _("The transition's conditions are not met."))
        raise TransitionNotAvailable(detail)
    if args.override:
        if name not in (TransitionName.QUALIFY_MQL, TransitionName.QUALIFY_SQL):
            raise ValidationFailed(
                [FieldError("override", _("Only qualify_mql and qualify_sql can be overridden."))]
            )
        if actor is not None and not may(actor, Can.OVERRIDE):
            raise Forbidden(_("Only the COO may override the criteria."))


def _run(lead: Lead, name: str, actor: Actor, args: TransitionArgs) -> LeadTransition:
    method = transition_method(lead, name)
    _check(lead, name, method, actor, args)
    now = timezone.now()
    definition = definition_published()
    evaluation: list[dict[str, Any]] = []
    if name == TransitionName.QUALIFY_TQL and (
        definition is None or not definition.has_inside_sales
    ):
        # Published without inside sales since: the TQL criteria the lead was handed with.
        definition = lead.definition
    if name in CRITERIA_STAGE and definition is None and not args.override:
        raise NoPublishedDefinition(_("Criteria cannot be checked: publish a definition first."))
    if name in CRITERIA_STAGE and definition is not None:
        evaluation = lead_evaluate(
            lead=lead, stage=CRITERIA_STAGE[TransitionName(name)], definition=definition, now=now
        )
    actor_team = None
    if name in (TransitionName.CLAIM, TransitionName.IS_CLAIM) and actor is not None:
        team_ids = rep_team_ids(actor)
        actor_team = Team.objects.filter(pk__in=team_ids).first() if team_ids else None
    assign = _assignment(lead, name, evaluation, args.override, definition)
    inp = TransitionInput(
        now=now,
        actor=actor,
        reason=args.reason,
        note=args.note,
        amount=args.amount,
        override=args.override,
        definition=definition,
        evaluation=evaluation,
        actor_team=actor_team,
        assign_team_id=assign[0],
        assign_owner_id=assign[1],
    )
    before = (lead.state, lead.responsible, lead.team_id, lead.owner_id)
    method(inp)
    # `state` is set by the machine itself; clean_fields would try to assign it again.
    lead.full_clean(exclude=["state"], validate_unique=False, validate_constraints=False)
    try:
        lead.save()
    except ConcurrentTransition as exc:
        raise ConcurrentUpdate(_("The lead changed state at the same time; reload it.")) from exc
    row = _history_row(lead, name, before, actor, args, definition, evaluation, now)
    row.save(force_insert=True)
    stage_entries_move([row], {lead.pk: lead})
    return row


def _history_row(
    lead: Lead, name: str, before: tuple[str, str, int | None, int | None], actor: Actor,
    args: TransitionArgs, definition: Any, evaluation: list[dict[str, Any]], now: Any,
) -> LeadTransition:  # fmt: skip
    """The history row of a transition that just ran: `before` is (state, responsible, team,
    owner) before it; the lead holds what came after."""
    return LeadTransition(
        lead=lead, transition=name, from_state=before[0], to_state=lead.state, actor=actor,
        actor_kind=ActorKind.SYSTEM if actor is None else ActorKind.USER,
        responsible_before=before[1], responsible_after=lead.responsible,
        team_before_id=before[2], team_after_id=lead.team_id,
        owner_before_id=before[3], owner_after_id=lead.owner_id,
        reason=args.reason, note=args.note,
        amount=args.amount if name == TransitionName.WIN else None,
        override=args.override, definition=definition, evaluation=evaluation, occurred_at=now,
    )  # fmt: skip


def _assignment(
    lead: Lead, name: str, evaluation: list[dict[str, Any]], override: bool,
    definition: Definition | None = None,
) -> tuple[int | None, int | None]:  # fmt: skip
    """Who receives the lead: for a qualification that passes, the handoff's team and rep of the
    function owning the stage entered; for a TQL field sales sends back, the inside-sales rep
    and team who qualified it."""
    if name == TransitionName.REJECT and lead.state == LeadState.TQL:
        row = (
            LeadTransition.objects.filter(lead=lead, transition=TransitionName.QUALIFY_TQL)
            .order_by("-occurred_at", "-id")
            .values_list("team_before_id", "owner_before_id")
            .first()
        )
        return row if row is not None else (None, None)
    passes = override or (evaluation and all(c["passed"] for c in evaluation))
    if name not in (TransitionName.QUALIFY_MQL, TransitionName.QUALIFY_TQL) or not passes:
        return None, None
    if hooks.assign is None:
        return None, None
    stage = LeadState.MQL if name == TransitionName.QUALIFY_MQL else LeadState.TQL
    function = (definition.stage(stage).get("owner") if definition else None) or Function.SALES
    return hooks.assign(lead, str(function))


def _schedule_effects(lead: Lead, row: LeadTransition) -> None:
    for hook in hooks.in_transaction:
        hook(lead, row)
    for effect in hooks.after_commit:
        transaction.on_commit(lambda effect=effect: effect(lead, row))  # type: ignore[misc]


def lead_transition(
    *, lead_id: int, name: str, actor: Actor, args: TransitionArgs | None = None
) -> Lead:
    """Run transition `name` on the lead as `actor` (a user, or None for the system)."""
    args = args or TransitionArgs()
    with transaction.atomic():
        lead: Lead
        if actor is None:
            lead = (
                Lead.objects.select_for_update(of=("self",))
                .select_related("definition")
                .get(pk=lead_id)
            )
        else:
            lead = lead_access(user=actor, lead_id=lead_id, for_update=True)
        with leads_changing([lead.pk]):
            row = _run(lead, name, actor, args)
            _schedule_effects(lead, row)
    return lead


def _field_values(lead: Lead) -> dict[str, Any]:
    """The lead's concrete field values (what a transition body may change)."""
    return {
        f.attname: getattr(lead, f.attname) for f in Lead._meta.concrete_fields if not f.primary_key
    }


def lead_qualify_mql_bulk(*, lead_ids: list[int]) -> list[int]:
    """The system's automatic MQL for many leads at once (after a recompute).

    One transaction, rows locked with SKIP LOCKED (a lead a user is moving right now is left for
    the next recompute), the published MQL criteria evaluated per lead with one batched activity
    query, then one bulk UPDATE and one bulk INSERT of history. Returns the ids moved."""
    from leads.definitions import evaluate_stage
    from leads.models import Event

    definition = definition_published()
    if definition is None or not lead_ids:
        return []
    now = timezone.now()
    criteria = definition.stage(LeadState.MQL).get("criteria", [])
    windows = [c["params"] for c in criteria if c["kind"] == "activity_within"]
    with transaction.atomic():
        qs = Lead.objects.filter(pk__in=lead_ids, state__in=[LeadState.LEAD, LeadState.RECYCLED])
        if transaction.get_connection().features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        leads = list(qs.select_related("definition").order_by("pk"))
        events: dict[int, list[tuple[str, Any]]] = {}
        if windows and leads:
            since = now - timedelta(days=max(w["days"] for w in windows))
            types = sorted({t for w in windows for t in w["types"]})
            for lead_id, etype, at in Event.objects.filter(
                lead_id__in=[lead.pk for lead in leads], type__in=types, occurred_at__gte=since
            ).values_list("lead_id", "type", "occurred_at"):
                events.setdefault(lead_id, []).append((etype, at))
        moved, rows = [], []
        changed: set[str] = set()
        with leads_changing([lead.pk for lead in leads]):
            for lead in leads:
                if not can_proceed(lead.qualify_mql):
                    continue

                def activity(types: list[str], since: Any, lead_id: int = lead.pk) -> int:
                    return sum(1 for t, at in events.get(lead_id, []) if t in types and at >= since)

                evaluation = evaluate_stage(
                    lead, definition.document, LeadState.MQL, now=now, activity=activity
                )
                if not all(c["passed"] for c in evaluation):
                    continue
                before = (lead.state, lead.responsible, lead.team_id, lead.owner_id)
                team_id, owner_id = _assignment(
                    lead, TransitionName.QUALIFY_MQL, evaluation, False, definition
                )
                values = _field_values(lead)
                lead.qualify_mql(
                    TransitionInput(
                        now=now, definition=definition, evaluation=evaluation,
                        assign_team_id=team_id, assign_owner_id=owner_id,
                    )
                )  # fmt: skip
                # The same validation as one transition's save (the state is the machine's).
                lead.full_clean(
                    exclude=["state"], validate_unique=False, validate_constraints=False
                )
                changed |= {f for f, v in _field_values(lead).items() if values[f] != v}
                moved.append(lead)
                rows.append(
                    _history_row(
                        lead,
                        TransitionName.QUALIFY_MQL,
                        before,
                        None,
                        TransitionArgs(),
                        definition,
                        evaluation,
                        now,
                    )
                )
            # The rows are locked (a concurrent transition waits, or was skipped above), so one
            # bulk UPDATE of exactly the fields the transition body changed stands in for
            # `ConcurrentTransitionMixin`'s `WHERE state = old`.
            if changed:
                Lead.objects.bulk_update(moved, sorted(changed))
            LeadTransition.objects.bulk_create(rows)
            stage_entries_move(rows, {lead.pk: lead for lead in moved})
            for lead, row in zip(moved, rows, strict=True):
                _schedule_effects(lead, row)
    return [lead.pk for lead in moved]
