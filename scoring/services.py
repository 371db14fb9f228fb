"""Scoring writes: rules, recomputes (full, incremental, sweep) and the automatic MQL after them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from leadflow.broker import task_send
from leadflow.jobs import job_start
from leadflow.models import Job
from leads.choices import LeadState
from leads.definitions import criteria_q
from leads.models import Lead, RescoreMark
from leads.selectors import definition_published
from leads.services.transitions import lead_qualify_mql_bulk
from scoring import engine
from scoring.models import ScoringRule

if TYPE_CHECKING:
    from leadflow.types import Actor

logger = logging.getLogger(__name__)
MQL_BATCH = 500
SWEEP_BATCH = 5000
# What follows a rescore of leads in its transaction, before the automatic MQL (the predictive
# score registers itself here: `analytics.apps`), called with the lead ids and the as-of moment.
rescore_followers: list[Callable[[list[int], datetime], Any]] = []


# --- rules ------------------------------------------------------------------------------------


def _rules_changed(*, actor: Actor, reason: str) -> None:
    """After commit: recompute every score, and bring the events' stored points up to the rules."""
    score_recompute_enqueue(actor=actor, reason=reason)
    events_repoint_enqueue()


def rule_create(*, actor: Actor, **fields: Any) -> ScoringRule:
    with transaction.atomic():
        rule = ScoringRule.objects.create(**fields)
        _rules_changed(actor=actor, reason=f"rule {rule.pk} created")
    return rule


def rule_update(*, rule_id: int, actor: Actor, **fields: Any) -> ScoringRule:
    with transaction.atomic():
        rule = ScoringRule.objects.select_for_update().get(pk=rule_id)
        for name, value in fields.items():
            setattr(rule, name, value)
        rule.full_clean()
        rule.save()
        _rules_changed(actor=actor, reason=f"rule {rule.pk} changed")
    return rule


def rule_delete(*, rule_id: int, actor: Actor) -> None:
    with transaction.atomic():
        ScoringRule.objects.filter(pk=rule_id).delete()
        _rules_changed(actor=actor, reason=f"rule {rule_id} deleted")


# --- recomputes -------------------------------------------------------------------------------


def _auto_mql(scope: Q) -> int:
    """Move leads of `scope` that now pass the published MQL criteria to `mql` (system)."""
    definition = definition_published()
    if definition is None:
        return 0
    now = timezone.now()
    criteria = definition.stage(LeadState.MQL).get("criteria", [])
    candidates = list(
        Lead.objects.filter(scope, state__in=[LeadState.LEAD, LeadState.RECYCLED])
        .filter(Q(recyclable_at__isnull=True) | Q(recyclable_at__lte=now))
        .filter(criteria_q(criteria, now=now))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    moved = 0
    for start in range(0, len(candidates), MQL_BATCH):
        moved += len(lead_qualify_mql_bulk(lead_ids=candidates[start : start + MQL_BATCH]))
    return moved


def auto_mql_range(lo: int, hi: int) -> int:
    """The automatic MQL among the leads with ids in [lo, hi)."""
    return _auto_mql(Q(pk__gte=lo, pk__lt=hi))


def score_leads(*, lead_ids: list[int], as_of: datetime | None = None) -> dict[str, int]:
    """Incremental recompute of the given leads, then automatic MQL among them."""
    as_of = as_of or timezone.now()
    changed = moved = 0
    ids = sorted(set(lead_ids))
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        with transaction.atomic():
            changed += engine.rescore(as_of=as_of, ids=chunk)
            for follow in rescore_followers:
                follow(chunk, as_of)
        moved += _auto_mql(Q(pk__in=chunk))
    return {"leads": len(ids), "changed": changed, "mql": moved}


def score_recompute(
    *, as_of: datetime | None = None, report: Callable[[float], None] | None = None
) -> dict[str, Any]:
    """Full recompute (decay as of `as_of`); automatic MQL and progress after each chunk."""
    as_of = as_of or timezone.now()
    leads = changed = moved = 0
    bounds = Lead.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    for lo, hi, n in engine.full_recompute(as_of=as_of, chunk_size=settings.SCORING_CHUNK_SIZE):
        changed += n
        moved += _auto_mql(Q(pk__gte=lo, pk__lt=hi))
        if report and bounds["hi"] is not None:
            report(min(1.0, (hi - bounds["lo"]) / (bounds["hi"] + 1 - bounds["lo"])))
    leads = Lead.objects.count()
    return {"leads": leads, "changed": changed, "mql": moved, "as_of": as_of.isoformat()}


def events_repoint() -> dict[str, int]:
    """Store the current rules' points on every event that has other ones (after a rule change),
    so the recomputes read them instead of evaluating the rules per event. Scores do not change:
    the recompute is correct either way, only faster after this."""
    updated = 0
    for _lo, _hi, n in engine.events_repoint(chunk_size=settings.SCORING_REPOINT_CHUNK_SIZE):
        updated += n
    return {"events": updated}


def score_sweep() -> dict[str, int]:
    """Rescore every lead marked before the sweep began (events or edits whose enqueue was lost
    to a broker outage); later marks are their own tasks' work, or the next sweep's."""
    total = {"leads": 0, "changed": 0, "mql": 0}
    ceiling = RescoreMark.objects.aggregate(top=Max("id"))["top"]
    while ceiling is not None:
        ids = list(
            RescoreMark.objects.filter(id__lte=ceiling)
            .order_by("lead_id")
            .values_list("lead_id", flat=True)
            .distinct()[:SWEEP_BATCH]
        )
        if not ids:
            break
        result = score_leads(lead_ids=ids)  # consumes their marks: the next round finds others
        for k in total:
            total[k] += result[k]
    return total


# --- enqueueing (after commit, never failing the caller) ---------------------------------------


def score_leads_enqueue(lead_ids: list[int]) -> None:
    from scoring.tasks import score_leads_task

    task_send(score_leads_task, sorted(set(lead_ids)))  # lost: the marks stay for the sweep


def events_repoint_enqueue() -> None:
    from scoring.tasks import events_repoint_task

    transaction.on_commit(lambda: task_send(events_repoint_task))


def score_recompute_enqueue(*, actor: Actor = None, reason: str = "") -> Job:
    return job_start(kind="score_recompute", params={"reason": reason}, actor=actor)
