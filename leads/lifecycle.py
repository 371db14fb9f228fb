"""The lead lifecycle (SPEC §2): one django-fsm-2 machine on a protected `state` field.

Transition bodies check their own requirements (reason, amount, passing criteria) and set only the
lead's own fields: no I/O, no other models, no save(). `leads.services.transitions` runs them:
`lead_transition` for one lead (it locks the row, checks the permission, runs the body, saves and
writes the history row in one transaction) and `lead_qualify_mql_bulk` for the system's automatic
MQL of many. Who may run a transition is the `permission` of each, a callable of `leads.access`;
a test fails if one lacks it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from leadflow.choices import Function
from leadflow.errors import CriteriaNotMet, FieldError, ValidationFailed
from leads.access import (
    is_rep,
    may_answer_handoff,
    may_claim,
    may_is_claim,
    may_is_work,
    may_marketing,
    may_qualify_mql,
    may_qualify_sql,
    may_work_own,
)
from leads.choices import (
    OTHER_REASON,
    ArchiveReason,
    DisqualifyReason,
    Lane,
    LeadState,
    LostReason,
    Source,
)

if TYPE_CHECKING:
    from accounts.models import Team
    from leadflow.types import Actor

S = LeadState


@dataclass(frozen=True)
class TransitionInput:
    """What a transition body may read besides the lead: the caller's arguments and the facts
    the service looked up for it (definition, evaluation, clock)."""

    now: datetime
    actor: Actor = None  # a user, or None for the system
    reason: str = ""
    note: str = ""
    amount: Decimal | None = None
    override: bool = False
    definition: Any = None  # the published Definition
    evaluation: list[dict[str, Any]] = field(default_factory=list)
    actor_team: Team | None = None  # the acting rep's team (claim, is_claim)
    # Who receives the handoff when entering mql or tql (the handoff app's assignment), or, when
    # field sales sends a TQL back, the inside-sales rep and team who qualified it.
    assign_team_id: int | None = None
    assign_owner_id: int | None = None

    def stage(self, state: str) -> dict[str, Any]:
        return self.definition.stage(state) if self.definition is not None else {}

    def owner_of(self, state: str) -> str:
        default = (
            Function.MARKETING
            if state in (S.LEAD, S.RECYCLED, S.ARCHIVED)
            else Function.INSIDE_SALES
            if state == S.TAL
            else Function.SALES
        )
        return str(self.stage(state).get("owner") or default)

    def cooloff(self, state: str) -> timedelta:
        return timedelta(days=float(self.stage(state).get("cooloff_days") or 0))


# --- conditions (pure) -------------------------------------------------------------------------


def cooloff_elapsed(lead: Any) -> bool:
    return lead.recyclable_at is None or lead.recyclable_at <= timezone.now()


def is_sales_generated(lead: Any) -> bool:
    return bool(lead.source == Source.SALES_GENERATED)


def is_inside_sales_generated(lead: Any) -> bool:
    return bool(lead.source == Source.INSIDE_SALES_GENERATED)


# --- requirement checks used by bodies --------------------------------------------------------


def _require_criteria(inp: TransitionInput) -> None:
    if inp.override:
        if not inp.note.strip():
            raise ValidationFailed([FieldError("note", _("An override needs a note."), "required")])
        return
    if not inp.evaluation or not all(c["passed"] for c in inp.evaluation):
        raise CriteriaNotMet(inp.evaluation)


def _require_reason(inp: TransitionInput, allowed: list[str] | None) -> None:
    if not inp.reason:
        raise ValidationFailed([FieldError("reason", _("A reason is required."), "required")])
    if allowed is not None and inp.reason not in allowed:
        raise ValidationFailed(
            [FieldError("reason", _("Choose one of: %s.") % ", ".join(allowed), "invalid_choice")]
        )
    if inp.reason == OTHER_REASON and not inp.note.strip():
        raise ValidationFailed([FieldError("note", _("Reason 'other' needs a note."), "required")])


class LeadLifecycle(ConcurrentTransitionMixin, models.Model):
    """The lifecycle part of a lead: its protected state and the fields transitions write."""

    state = FSMField(default=S.LEAD, choices=S.choices, protected=True, max_length=16)
    responsible = models.CharField(
        max_length=16, choices=Function.choices, default=Function.MARKETING
    )
    # Indexed by (owner, state) and (team, state) on the lead; a single-column index more would
    # only cost every intake. No index on the definition: definitions are never deleted.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_leads",
        db_index=False,
    )
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        db_index=False,
    )
    definition = models.ForeignKey(
        "leads.Definition",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    state_changed_at = models.DateTimeField(null=True, blank=True)
    recycle_count = models.PositiveIntegerField(default=0)
    recycle_reason = models.CharField(max_length=64, blank=True)
    recyclable_at = models.DateTimeField(null=True, blank=True)
    won_amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    lost_reason = models.CharField(max_length=32, blank=True)
    archive_reason = models.CharField(max_length=32, blank=True)
    # Where the lead first entered the accountable line (SPEC §13); never changes after.
    lane = models.CharField(max_length=3, choices=Lane.choices, blank=True)

    if TYPE_CHECKING:
        source: str
        owner_id: int | None
        team_id: int | None
        definition_id: int | None

    class Meta:
        abstract = True

    def _enter(self, target: str, inp: TransitionInput) -> None:
        self.responsible = inp.owner_of(target)
        self.state_changed_at = inp.now

    def _lane(self, lane: str) -> None:
        if not self.lane:
            self.lane = lane

    def _hand_to(self, inp: TransitionInput) -> None:
        self.team_id = inp.assign_team_id
        self.owner_id = inp.assign_owner_id

    def _to_recycled(self, inp: TransitionInput, reason: str) -> None:
        self._enter(S.RECYCLED, inp)
        self.recycle_reason = reason
        self.recyclable_at = inp.now + inp.cooloff(S.RECYCLED)
        self.owner = None
        self.team = None

    @transition(
        field=state,
        source=[S.LEAD, S.RECYCLED],
        target=S.MQL,
        conditions=[cooloff_elapsed],
        permission=may_qualify_mql,
    )
    def qualify_mql(self, inp: TransitionInput) -> None:
        _require_criteria(inp)
        if self.state == S.RECYCLED:
            self.recycle_count += 1
        self._enter(S.MQL, inp)
        self.definition = inp.definition
        self.recyclable_at = None
        self._lane(Lane.MGL)
        self._hand_to(inp)

    # Field sales accepts an MQL handed to it, or a TQL inside sales qualified (SPEC §13). Which
    # one a lead's definition routes its MQLs through decides (the service refuses the other).
    @transition(field=state, source=[S.MQL, S.TQL], target=S.SAL, permission=may_answer_handoff)
    def accept(self, inp: TransitionInput) -> None:
        self._enter(S.SAL, inp)
        if is_rep(inp.actor):
            self.owner = inp.actor

    @transition(field=state, source=S.MQL, target=S.RECYCLED, permission=may_answer_handoff)
    @transition(field=state, source=S.TQL, target=S.TAL, permission=may_answer_handoff)
    def reject(self, inp: TransitionInput) -> None:
        stage = S.TQL if self.state == S.TQL else S.MQL
        codes = [
            c["code"]
            for c in (self.definition.stage(stage) if self.definition else {}).get("criteria", [])
        ]
        _require_reason(inp, [*codes, OTHER_REASON])
        if stage == S.TQL:  # back to the inside-sales rep who qualified it, accountable again
            self._enter(S.TAL, inp)
            self._hand_to(inp)
            return
        self._to_recycled(inp, inp.reason)

    @transition(field=state, source=S.MQL, target=S.TAL, permission=may_is_work)
    def is_accept(self, inp: TransitionInput) -> None:
        self._enter(S.TAL, inp)
        if is_rep(inp.actor):
            self.owner = inp.actor

    @transition(field=state, source=S.TAL, target=S.TQL, permission=may_is_work)
    def qualify_tql(self, inp: TransitionInput) -> None:
        _require_criteria(inp)
        self._enter(S.TQL, inp)
        self._hand_to(inp)

    @transition(field=state, source=S.TAL, target=S.RECYCLED, permission=may_is_work)
    def is_disqualify(self, inp: TransitionInput) -> None:
        _require_reason(inp, list(DisqualifyReason.values))
        self._to_recycled(inp, inp.reason)

    @transition(
        field=state,
        source=S.LEAD,
        target=S.TAL,
        conditions=[is_inside_sales_generated],
        permission=may_is_claim,
    )
    def is_claim(self, inp: TransitionInput) -> None:
        self._enter(S.TAL, inp)
        self._lane(Lane.TGL)
        self.definition = inp.definition or self.definition
        if is_rep(inp.actor):
            self.owner = inp.actor
            self.team = inp.actor_team or self.team

    @transition(
        field=state,
        source=S.LEAD,
        target=S.SAL,
        conditions=[is_sales_generated],
        permission=may_claim,
    )
    def claim(self, inp: TransitionInput) -> None:
        self._enter(S.SAL, inp)
        self._lane(Lane.SGL)
        if is_rep(inp.actor):
            self.owner = inp.actor
            self.team = inp.actor_team or self.team

    @transition(field=state, source=S.SAL, target=S.SQL, permission=may_qualify_sql)
    def qualify_sql(self, inp: TransitionInput) -> None:
        _require_criteria(inp)
        self._enter(S.SQL, inp)

    @transition(field=state, source=[S.SAL, S.SQL], target=S.RECYCLED, permission=may_work_own)
    def disqualify(self, inp: TransitionInput) -> None:
        _require_reason(inp, list(DisqualifyReason.values))
        self._to_recycled(inp, inp.reason)

    @transition(field=state, source=S.SQL, target=S.WON, permission=may_work_own)
    def win(self, inp: TransitionInput) -> None:
        if inp.amount is None or inp.amount <= 0:
            raise ValidationFailed(
                [FieldError("amount", _("A won deal needs an amount > 0."), "required")]
            )
        self._enter(S.WON, inp)
        self.won_amount = inp.amount

    @transition(field=state, source=S.SQL, target=S.LOST, permission=may_work_own)
    def lose(self, inp: TransitionInput) -> None:
        _require_reason(inp, list(LostReason.values))
        self._enter(S.LOST, inp)
        self.lost_reason = inp.reason
        self.recyclable_at = inp.now + inp.cooloff(S.LOST)

    @transition(field=state, source=S.LOST, target=S.RECYCLED, permission=may_marketing)
    def recycle(self, inp: TransitionInput) -> None:
        self._to_recycled(inp, f"lost:{self.lost_reason}" if self.lost_reason else "lost")

    @transition(
        field=state,
        source=[S.LEAD, S.RECYCLED, S.MQL],
        target=S.ARCHIVED,
        permission=may_marketing,
    )
    def archive(self, inp: TransitionInput) -> None:
        _require_reason(inp, list(ArchiveReason.values))
        self._enter(S.ARCHIVED, inp)
        self.archive_reason = inp.reason
        self.owner = None
        self.team = None


# The edges of SPEC §2, for tests and the docs: (transition, source) -> target.
EDGES: dict[tuple[str, str], str] = {
    ("qualify_mql", S.LEAD): S.MQL,
    ("qualify_mql", S.RECYCLED): S.MQL,
    ("accept", S.MQL): S.SAL,
    ("reject", S.MQL): S.RECYCLED,
    ("claim", S.LEAD): S.SAL,
    ("is_accept", S.MQL): S.TAL,
    ("qualify_tql", S.TAL): S.TQL,
    ("is_disqualify", S.TAL): S.RECYCLED,
    ("is_claim", S.LEAD): S.TAL,
    ("accept", S.TQL): S.SAL,
    ("reject", S.TQL): S.TAL,
    ("qualify_sql", S.SAL): S.SQL,
    ("disqualify", S.SAL): S.RECYCLED,
    ("disqualify", S.SQL): S.RECYCLED,
    ("win", S.SQL): S.WON,
    ("lose", S.SQL): S.LOST,
    ("recycle", S.LOST): S.RECYCLED,
    ("archive", S.LEAD): S.ARCHIVED,
    ("archive", S.RECYCLED): S.ARCHIVED,
    ("archive", S.MQL): S.ARCHIVED,
}
