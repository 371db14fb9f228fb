"""Sales: the handoff inbox (mine / my team, SLA countdown, accept, reject with a criterion) and
the pipeline of my SALs and SQLs."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from handoff.choices import HandoffStatus
from handoff.models import Handoff
from handoff.selectors import handoff_list
from leadflow.choices import Role
from leadflow.errors import LeadflowError
from leads import selectors
from leads.choices import OTHER_REASON, LeadState, LostReason
from leads.services.transitions import TransitionArgs, available_transitions, lead_transition
from web.roles import role_required
from web.views.base import back, error_text

SALES_ROLES = (Role.SALES, Role.SALES_MANAGER, Role.COO)
INBOX_LIMIT = 200


def _reasons(h: Handoff) -> list[str]:
    from leads.choices import LeadState

    stage = h.definition.stage(LeadState.MQL) if h.definition else {}
    codes = [c["code"] for c in stage.get("criteria", [])]
    return [*codes, OTHER_REASON]


def _inbox_rows(request: HttpRequest, tab: str) -> list[Handoff]:
    qs = handoff_list(user=request.user).filter(status=HandoffStatus.OPEN)
    if tab == "mine":
        qs = qs.filter(assignee_id=request.user.pk)
    rows = list(qs.select_related("definition").order_by("due_at", "id")[:INBOX_LIMIT])
    for h in rows:
        h.reasons = _reasons(h)  # type: ignore[attr-defined]
    return rows


@require_GET
@role_required(*SALES_ROLES)
def inbox(request: HttpRequest) -> HttpResponse:
    tab = "team" if request.GET.get("tab") == "team" else "mine"
    return render(request, "web/inbox.html", {"tab": tab, "handoffs": _inbox_rows(request, tab)})


@require_POST
@role_required(*SALES_ROLES)
def handoff_answer(request: HttpRequest, handoff_id: int, action: str) -> HttpResponse:
    """Accept or reject an open handoff; htmx gets the answered row back in place."""
    h = get_object_or_404(
        handoff_list(user=request.user).select_related("definition"), pk=handoff_id
    )
    if action not in ("accept", "reject"):
        return HttpResponse(status=404)
    args = TransitionArgs(
        reason=request.POST.get("reason", "")[:64], note=request.POST.get("note", "")[:2000]
    )
    error = None
    try:
        lead_transition(lead_id=h.lead_id, name=action, actor=request.user, args=args)
    except LeadflowError as exc:
        error = error_text(exc)
    h = Handoff.objects.select_related(
        "lead", "lead__scores", "qualification", "team", "assignee", "definition"
    ).get(pk=h.pk)
    h.reasons = _reasons(h)  # type: ignore[attr-defined]
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "web/partials/handoff_row.html", {"h": h, "error": error})
    if error:
        messages.error(request, error)
    else:
        messages.success(
            request,
            _("Accepted: %s") % h.lead.email
            if action == "accept"
            else _("Rejected: %s") % h.lead.email,
        )
    return back(request, reverse("web:inbox"))


@require_GET
@role_required(Role.SALES, Role.SALES_MANAGER)
def pipeline(request: HttpRequest) -> HttpResponse:
    """My SALs and SQLs (a manager's: the team's), oldest change first."""
    leads = list(
        selectors.lead_list(user=request.user)
        .filter(state__in=[LeadState.SAL, LeadState.SQL])
        .select_related("owner", "team")
        .order_by("state_changed_at", "id")[:INBOX_LIMIT]
    )
    rows: list[dict[str, Any]] = [
        {"lead": lead, "transitions": available_transitions(lead, request.user)} for lead in leads
    ]
    return render(request, "web/pipeline.html", {
        "rows": rows, "lost_reasons": LostReason.choices, "archive_reasons": [],
        "reject_reasons": [], "may_override": False,
    })  # fmt: skip
