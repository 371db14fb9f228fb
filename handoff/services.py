"""Handoff writes: open and close with the lifecycle, the SLA sweep, recycling, rules, webhooks."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from handoff import assignment
from handoff.choices import ANSWERED_STAGES, HANDOFF_STAGES, DeliveryStatus, HandoffStatus
from handoff.models import AssignmentRule, Handoff, WebhookSubscription
from handoff.webhooks import webhook_emit
from leadflow.broker import task_send
from leads.choices import LeadState, TransitionName
from leads.models import Definition, Lead, LeadTransition
from leads.services.derived import leads_changing
from leads.services.transitions import lead_transition

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from leadflow.types import Actor

logger = logging.getLogger(__name__)
ANSWER = {
    TransitionName.ACCEPT: HandoffStatus.ACCEPTED,
    TransitionName.IS_ACCEPT: HandoffStatus.ACCEPTED,
    TransitionName.REJECT: HandoffStatus.REJECTED,
}


def _sla(definition: Definition | None, stage: str = LeadState.MQL) -> timedelta:
    hours = (definition.stage(stage).get("sla_hours") if definition else None) or 24
    return timedelta(hours=float(hours))


def _notify_after_commit(kind: str, handoff_id: int) -> None:
    def send() -> None:
        from handoff.tasks import notify_task

        task_send(notify_task, kind, handoff_id)

    transaction.on_commit(send)


def _payload(h: Handoff) -> dict[str, Any]:
    return {
        "handoff": h.pk,
        "lead": h.lead_id,
        "stage": h.stage,
        "status": h.status,
        "team": h.team_id,
        "assignee": h.assignee_id,
        "due_at": h.due_at,
        "breached_at": h.breached_at,
        "reason": h.reason,
    }


def handoff_on_transition(lead: Lead, row: LeadTransition) -> None:
    """In the transition's transaction: entering mql, tal or tql opens a handoff, leaving it
    closes it."""
    if row.from_state in HANDOFF_STAGES:
        h = Handoff.objects.select_for_update().filter(lead=lead, status=HandoffStatus.OPEN).first()
        if h is not None:
            h.status = (
                ANSWER.get(TransitionName(row.transition), HandoffStatus.CLOSED)
                if h.stage in ANSWERED_STAGES
                else HandoffStatus.CLOSED
            )
            h.answered_at, h.answered_by_id = row.occurred_at, row.actor_id
            h.reason, h.note = row.reason, row.note
            if h.breached_at is None and row.occurred_at > h.due_at:
                # Answered late before a sweep saw it: breached all the same, when it fell due.
                h.breached_at = h.due_at
            h.save(
                update_fields=[
                    "status",
                    "breached_at",
                    "answered_at",
                    "answered_by",
                    "reason",
                    "note",
                    "updated_at",
                ]
            )
            if h.status != HandoffStatus.CLOSED:
                webhook_emit(event_type=f"handoff.{h.status}", payload=_payload(h))
    if row.to_state in HANDOFF_STAGES:
        sla = _sla(row.definition, row.to_state)
        h = Handoff.objects.create(
            lead=lead,
            stage=row.to_state,
            definition=row.definition,
            qualification=row,
            team_id=lead.team_id,
            assignee_id=lead.owner_id,
            opened_at=row.occurred_at,
            due_at=row.occurred_at + sla,
            warn_at=row.occurred_at + sla * settings.HANDOFF_WARNING_FRACTION,
        )
        webhook_emit(event_type="handoff.opened", payload=_payload(h))
        if h.assignee_id and h.assignee_id != row.actor_id:  # not of what one took oneself
            _notify_after_commit("new", h.pk)
    webhook_emit(
        event_type=f"transition.{row.transition}",
        payload={
            "lead": lead.pk,
            "transition": row.transition,
            "from": row.from_state,
            "to": row.to_state,
            "actor": row.actor_id,
            "reason": row.reason,
            "definition": row.definition_id,
            "occurred_at": row.occurred_at,
            "amount": row.amount,
        },
    )


def handoff_sla_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Warn assignees whose SLA is nearly spent; mark breaches (once), notify the team's
    managers and, if the definition says so, re-assign to the next rep of the team."""
    now = now or timezone.now()
    out = {"warned": 0, "breached": 0, "reassigned": 0}
    with transaction.atomic():
        due = Handoff.objects.select_for_update(skip_locked=True).filter(
            status=HandoffStatus.OPEN,
            warned_at__isnull=True,
            breached_at__isnull=True,
            warn_at__lte=now,
        )
        warn_ids = list(due.filter(due_at__gt=now).values_list("pk", flat=True))
        out["warned"] = Handoff.objects.filter(pk__in=warn_ids).update(warned_at=now)
        for pk in warn_ids:
            _notify_after_commit("warning", pk)
    with transaction.atomic():
        # The lead too, as a transition locks it first: a lead being moved right now is left for
        # the next sweep, so the breach and the move never overlap (nor their figures' deltas).
        breached = list(
            Handoff.objects.select_for_update(skip_locked=True, of=("self", "lead"))
            .select_related("definition", "lead")
            .filter(status=HandoffStatus.OPEN, breached_at__isnull=True, due_at__lte=now)
        )
        with leads_changing([h.lead_id for h in breached]):
            for h in breached:
                h.breached_at = now
                fields = ["breached_at", "updated_at"]
                if h.definition and h.definition.stage(h.stage).get("reassign_on_breach"):
                    new = assignment.reassign(team_id=h.team_id, current_user_id=h.assignee_id)
                    if new is not None:
                        h.assignee_id, h.reassign_count = new, h.reassign_count + 1
                        h.due_at, h.warn_at, h.warned_at = (
                            now + _sla(h.definition, h.stage),
                            now + _sla(h.definition, h.stage) * settings.HANDOFF_WARNING_FRACTION,
                            None,
                        )
                        fields += ["assignee", "reassign_count", "due_at", "warn_at", "warned_at"]
                        out["reassigned"] += 1
                        webhook_emit(event_type="handoff.reassigned", payload=_payload(h))
                        _notify_after_commit("new", h.pk)
                h.save(update_fields=fields)
                webhook_emit(event_type="handoff.breached", payload=_payload(h))
                _notify_after_commit("breach", h.pk)
        out["breached"] = len(breached)
    return out


def recycle_sweep(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Lost leads past their cool-off go back to marketing (`recycle`, actor system)."""
    now = now or timezone.now()
    ids = list(
        Lead.objects.filter(state=LeadState.LOST, recyclable_at__lte=now)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    moved = 0
    for pk in ids:
        try:
            lead_transition(lead_id=pk, name=TransitionName.RECYCLE, actor=None)
            moved += 1
        except Exception:  # a lead a user moved meanwhile is simply no longer lost
            logger.info("lead %s was not recycled", pk, exc_info=True)
    return moved


def rule_save(*, rule_id: int | None = None, **fields: Any) -> AssignmentRule:
    rule = AssignmentRule(**fields) if rule_id is None else AssignmentRule.objects.get(pk=rule_id)
    for name, value in fields.items():
        setattr(rule, name, value)
    rule.full_clean()
    rule.save()
    return rule


def rule_delete(*, rule: AssignmentRule) -> None:
    rule.delete()


def subscription_delete(*, subscription: WebhookSubscription) -> None:
    """Deleting a subscription drops its pending deliveries and their log with it."""
    subscription.delete()


def subscription_save(
    *, subscription_id: int | None = None, actor: Actor = None, **fields: Any
) -> WebhookSubscription:
    sub = (
        WebhookSubscription(created_by=actor)
        if subscription_id is None
        else WebhookSubscription.objects.get(pk=subscription_id)
    )
    for name, value in fields.items():
        setattr(sub, name, value)
    sub.full_clean()
    with transaction.atomic():
        sub.save()
        if not sub.is_active:  # a switched-off hook retries nothing it still had pending
            sub.deliveries.filter(status=DeliveryStatus.PENDING).update(
                status=DeliveryStatus.CANCELLED, updated_at=timezone.now()
            )
    return sub


def handoff_reassign(*, handoff_id: int, assignee_id: int, actor: User) -> Handoff:
    """A manager (or the COO) gives an open handoff to another available rep: of the handoff's
    team for a manager, of any team for the COO. The lead follows the handoff; the SLA stays."""
    from django.utils.translation import gettext as _

    from accounts.choices import MembershipRole
    from accounts.models import TeamMembership
    from handoff.selectors import handoff_list
    from leadflow.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
    from leads.access import reassign_teams

    with transaction.atomic():
        found = handoff_list(user=actor).filter(pk=handoff_id).values_list("lead_id", flat=True)
        lead_id = found.first()
        if lead_id is None:
            raise NotFound(_("No handoff %s.") % handoff_id)
        # The lead first, then the handoff: the order a transition takes them in.
        lead = Lead.objects.select_for_update(of=("self",)).get(pk=lead_id)
        h = Handoff.objects.select_for_update(of=("self",)).get(pk=handoff_id)
        teams = reassign_teams(actor)
        if teams is not None and h.team_id not in teams:
            raise Forbidden(_("Only the team's manager or the COO may re-assign a handoff."))
        if h.status != HandoffStatus.OPEN:
            raise Conflict(_("The handoff has been answered already."))
        reps = TeamMembership.objects.filter(user_id=assignee_id, role=MembershipRole.REP,
                                             user__is_active=True)  # fmt: skip
        if teams is not None:
            reps = reps.filter(team_id=h.team_id or 0)
        membership = reps.first()
        if membership is None:
            raise ValidationFailed([FieldError(
                "assignee", _("Choose an active rep of the team."), "invalid_choice")])  # fmt: skip
        with leads_changing([lead.pk]):
            h.assignee_id, h.team_id = membership.user_id, membership.team_id
            h.reassign_count += 1
            h.save(update_fields=["assignee", "team", "reassign_count", "updated_at"])
            lead.owner_id, lead.team_id = membership.user_id, membership.team_id
            lead.save(update_fields=["owner", "team", "updated_at"])
        webhook_emit(event_type="handoff.reassigned", payload=_payload(h))
        _notify_after_commit("new", h.pk)
    return h
