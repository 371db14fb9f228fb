"""The only caller of lifecycle transitions (STYLE §4): lock, check, run, clean, save, history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition, get_available_user_FIELD_transitions

from accounts.models import Team
from accounts.selectors import rep_team_ids
from leadflow.errors import (
    ConcurrentUpdate,
    FieldError,
    Forbidden,
    NoPublishedDefinition,
    NotFound,
    TransitionNotAvailable,
    ValidationFailed,
)
from leads.choices import ActorKind, LeadState, TransitionName
from leads.lifecycle import TransitionInput, may_override
from leads.models import Lead, LeadTransition
from leads.selectors import definition_published, lead_access, lead_evaluate

# The stage whose criteria a qualifying transition must pass.
CRITERIA_STAGE = {
    TransitionName.QUALIFY_MQL: LeadState.MQL,
    TransitionName.QUALIFY_SQL: LeadState.SQL,
}

# Effects to run after commit, registered by apps above leads (handoff, webhooks); each gets the
# lead and the history row. Kept as a list so leads never imports them.
after_transition: list[Callable[[Lead, LeadTransition], None]] = []


@dataclass(frozen=True)
class TransitionArgs:
    reason: str = ""
    note: str = ""
    amount: Decimal | None = None
    override: bool = False


def transition_method(lead: Lead, name: str) -> Any:
    if name not in TransitionName.values:
        raise NotFound(f"No transition {name!r}.")
    return getattr(lead, name)


def available_transitions(lead: Lead, user: Any) -> list[str]:
    """Transitions the user may run on the lead now (state, conditions and permission)."""
    state_field = Lead._meta.get_field("state")
    return [t.name for t in get_available_user_FIELD_transitions(lead, user, state_field)]


def _check(lead: Lead, name: str, method: Any, actor: Any, args: TransitionArgs) -> None:
    meta = method._django_fsm
    if not meta.has_transition(lead.state):
        raise TransitionNotAvailable(f"'{name}' is not available from state '{lead.state}'.")
    if actor is not None and not meta.has_transition_perm(lead, lead.state, actor):
        raise Forbidden(f"Your role may not '{name}' this lead.")
    if not meta.conditions_met(lead, lead.state):
        detail = {
            TransitionName.QUALIFY_MQL: "The recycling cool-off has not elapsed yet.",
            TransitionName.CLAIM: "Only sales-generated leads can be claimed.",
        }.get(TransitionName(name), "The transition's conditions are not met.")
        raise TransitionNotAvailable(detail)
    if args.override:
        if name not in CRITERIA_STAGE:
            raise ValidationFailed(
                [FieldError("override", "Only qualify_mql and qualify_sql can be overridden.")]
            )
        if actor is not None and not may_override(actor):
            raise Forbidden("Only the COO may override the criteria.")


def _run(lead: Lead, name: str, actor: Any, args: TransitionArgs) -> LeadTransition:
    method = transition_method(lead, name)
    _check(lead, name, method, actor, args)
    now = timezone.now()
    definition = definition_published()
    evaluation: list[dict[str, Any]] = []
    if name in CRITERIA_STAGE and definition is None and not args.override:
        raise NoPublishedDefinition("Criteria cannot be checked: publish a definition first.")
    if name in CRITERIA_STAGE and definition is not None:
        evaluation = lead_evaluate(
            lead=lead, stage=CRITERIA_STAGE[TransitionName(name)], definition=definition, now=now
        )
    actor_team = None
    if name == TransitionName.CLAIM and actor is not None:
        team_ids = rep_team_ids(actor)
        actor_team = Team.objects.filter(pk__in=team_ids).first() if team_ids else None
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
    )
    before = (lead.state, lead.responsible, lead.team_id, lead.owner_id)
    method(inp)
    # `state` is set by the machine itself; clean_fields would try to assign it again.
    lead.full_clean(exclude=["state"], validate_unique=False, validate_constraints=False)
    try:
        lead.save()
    except ConcurrentTransition as exc:
        raise ConcurrentUpdate("The lead changed state at the same time; reload it.") from exc
    return LeadTransition.objects.create(
        lead=lead,
        transition=name,
        from_state=before[0],
        to_state=lead.state,
        actor=actor,
        actor_kind=ActorKind.SYSTEM if actor is None else ActorKind.USER,
        responsible_before=before[1],
        responsible_after=lead.responsible,
        team_before_id=before[2],
        team_after_id=lead.team_id,
        owner_before_id=before[3],
        owner_after_id=lead.owner_id,
        reason=args.reason,
        note=args.note,
        amount=args.amount if name == TransitionName.WIN else None,
        override=args.override,
        definition=definition,
        evaluation=evaluation,
        occurred_at=now,
    )


def _schedule_effects(lead: Lead, row: LeadTransition) -> None:
    for effect in after_transition:
        transaction.on_commit(lambda effect=effect: effect(lead, row))  # type: ignore[misc]


def lead_transition(
    *, lead_id: int, name: str, actor: Any, args: TransitionArgs | None = None
) -> Lead:
    """Run transition `name` on the lead as `actor` (a user, or None for the system)."""
    args = args or TransitionArgs()
    with transaction.atomic():
        if actor is None:
            lead = (
                Lead.objects.select_for_update(of=("self",))
                .select_related("definition")
                .get(pk=lead_id)
            )
        else:
            lead = lead_access(user=actor, lead_id=lead_id, for_update=True)
        row = _run(lead, name, actor, args)
        _schedule_effects(lead, row)
    return lead
