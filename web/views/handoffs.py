"""Sales: the handoff inbox (mine / my team, SLA countdown, accept, reject with a criterion) and
the pipeline of my SALs and SQLs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.selectors import inside_sales_member
from handoff.choices import ANSWERED_STAGES, HandoffStatus
from handoff.models import Handoff
from handoff.selectors import handoff_list
from leadflow.errors import LeadflowError, NotFound
from leadflow.permissions import user_of
from leads import selectors
from leads.access import Can, is_rep, may, reassign_teams
from leads.choices import (
    ActivityOutcome,
    DisqualifyReason,
    LeadState,
    LostReason,
    TransitionName,
)
from leads.services.transitions import TransitionArgs, available_transitions, lead_transition
from web.criteria import describe, reason_choices, reason_label
from web.roles import requires
from web.views.base import back, error_text

if TYPE_CHECKING:
    from leadflow.types import Caller

INBOX_LIMIT = 200


def _decorate(h: Handoff, user: Any | None) -> Handoff:
    """What a row shows besides the handoff: the reasons to reject by label (a TQL's are the
    TQL criteria), why the lead was handed over in words, and whether the user may still open
    the lead."""
    document = h.definition.document if h.definition else None
    h.reasons = reason_choices(document, h.stage)  # type: ignore[attr-defined]
    h.why = describe(  # type: ignore[attr-defined]
        h.qualification.evaluation if h.qualification else [], document, h.stage
    )
    h.reason_text = reason_label(h.reason, document, h.stage)  # type: ignore[attr-defined]
    # An open handoff's lead is in the user's scope; an answered one may have left it.
    h.lead_visible = user is None or (  # type: ignore[attr-defined]
        selectors.lead_list(user=user).filter(pk=h.lead_id).exists()
    )
    return h


def _to_answer(user: Caller) -> QuerySet[Handoff]:
    """The open handoffs awaiting an accept or a reject (a `tal` one is worked on "my TALs")."""
    return handoff_list(user=user).filter(status=HandoffStatus.OPEN, stage__in=ANSWERED_STAGES)


def _inbox_rows(request: HttpRequest, tab: str) -> list[Handoff]:
    qs = _to_answer(request.user)
    if tab == "mine":
        qs = qs.filter(assignee_id=request.user.pk)
    rows = list(qs.select_related("definition").order_by("due_at", "id")[:INBOX_LIMIT])
    for h in rows:
        _decorate(h, None)
    return rows


def _reps_by_team(user: Caller) -> dict[int, list[tuple[int, str]]]:
    """Whom a manager (their teams' reps) or the COO (every rep) may hand a handoff to."""
    from accounts.choices import MembershipRole
    from accounts.models import TeamMembership

    if not may(user, Can.MANAGE_TEAMS):
        return {}
    teams = reassign_teams(user)
    rows = TeamMembership.objects.filter(role=MembershipRole.REP, user__is_active=True)
    if teams is not None:
        rows = rows.filter(team_id__in=teams)
    out: dict[int, list[tuple[int, str]]] = {}
    for team_id, user_id, name in rows.order_by("user__username").values_list(
        "team_id", "user_id", "user__username"
    ):
        out.setdefault(team_id, []).append((user_id, name))
    if teams is None:  # the COO may move a handoff to any team's rep
        return _AnyTeam(sorted({r for reps in out.values() for r in reps}, key=lambda r: r[1]))
    return out


class _AnyTeam(dict[int, list[tuple[int, str]]]):
    """The same reps whatever the team (the COO's choice)."""

    def __init__(self, everyone: list[tuple[int, str]]) -> None:
        super().__init__()
        self.everyone = everyone

    def get(self, key: Any, default: Any = None) -> Any:
        return self.everyone

    def __bool__(self) -> bool:
        return bool(self.everyone)


@require_GET
@requires(Can.ANSWER_HANDOFFS)
def inbox(request: HttpRequest) -> HttpResponse:
    """A manager or the COO lands on the team's handoffs, a rep on their own."""
    default = "mine" if is_rep(request.user) else "team"
    asked = request.GET.get("tab", "")
    tab = asked if asked in ("mine", "team") else default
    rows = _inbox_rows(request, tab)
    counts = {
        "mine": _to_answer(request.user).filter(assignee_id=request.user.pk).count(),
        "team": _to_answer(request.user).count(),
    }
    return render(request, "web/inbox.html", {
        "tab": tab, "handoffs": rows, "counts": counts, "reps": _reps_by_team(request.user),
    })  # fmt: skip


@require_POST
@requires(Can.ANSWER_HANDOFFS)
def handoff_answer(request: HttpRequest, handoff_id: int, action: str) -> HttpResponse:
    """Accept or reject an open handoff; htmx gets the answered row back in place."""
    h = get_object_or_404(
        handoff_list(user=request.user).select_related("definition"), pk=handoff_id
    )
    if action not in ("accept", "reject"):
        return HttpResponse(status=404)
    # An MQL handed to inside sales is accepted into tal (SPEC §13).
    name = (
        TransitionName.IS_ACCEPT
        if action == "accept" and h.stage == LeadState.MQL
        and h.definition is not None and h.definition.has_inside_sales
        else action
    )  # fmt: skip
    args = TransitionArgs(
        reason=request.POST.get("reason", "")[:64], note=request.POST.get("note", "")[:2000]
    )
    error = None
    try:
        lead_transition(lead_id=h.lead_id, name=name, actor=user_of(request), args=args)
    except LeadflowError as exc:
        error = error_text(exc)
    h = _decorate(
        Handoff.objects.select_related(
            "lead", "lead__scores", "qualification", "team", "assignee", "definition"
        ).get(pk=h.pk),
        request.user,
    )
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "web/partials/handoff_row.html", {
            "h": h, "error": error, "reps": _reps_by_team(request.user),
        })  # fmt: skip
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


# The one-click outcomes of a call on "my TALs" (SPEC §13).
CALL_OUTCOMES = [
    ActivityOutcome.CONNECTED, ActivityOutcome.NO_ANSWER, ActivityOutcome.VOICEMAIL,
    ActivityOutcome.MEETING_SET, ActivityOutcome.NOT_INTERESTED,
]  # fmt: skip


@require_GET
@requires(Can.KEEP_PIPELINE)
def pipeline(request: HttpRequest) -> HttpResponse:
    """A rep's own TALs (inside sales: with the TAL's SLA and one-click call outcomes), SALs
    and SQLs; a manager's, the team's (with the owner), oldest first."""
    qs = selectors.lead_list(user=request.user)
    if is_rep(request.user):
        qs = qs.filter(owner_id=request.user.pk)
    leads = list(
        qs.filter(state__in=[LeadState.TAL, LeadState.SAL, LeadState.SQL])
        .select_related("owner", "team", "definition")
        .order_by("state_changed_at", "id")[:INBOX_LIMIT]
    )
    due = dict(
        Handoff.objects.filter(
            lead_id__in=[lead.pk for lead in leads if lead.state == LeadState.TAL],
            status=HandoffStatus.OPEN, stage=LeadState.TAL,
        ).values_list("lead_id", "due_at")
    )  # fmt: skip
    rows: list[dict[str, Any]] = [
        {"lead": lead, "transitions": available_transitions(lead, request.user),
         "due_at": due.get(lead.pk)}
        for lead in leads
    ]  # fmt: skip
    inside = inside_sales_member(request.user)
    return render(request, "web/pipeline.html", {
        "rows": rows, "lost_reasons": LostReason.choices, "archive_reasons": [],
        "reject_reasons": [], "may_override": False,
        "disqualify_reasons": DisqualifyReason.choices,
        "show_owner": not is_rep(request.user), "inside_sales": inside,
        "call_outcomes": [(o.value, o.label) for o in CALL_OUTCOMES],
    })  # fmt: skip


@require_POST
@requires(Can.KEEP_PIPELINE)
def pipeline_call(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Log a call with its outcome on a lead one works (one click on "my TALs")."""
    from leads.services.activities import activity_log

    outcome = request.POST.get("outcome", "")
    if outcome not in {o.value for o in CALL_OUTCOMES}:
        messages.error(request, _("Choose the call's outcome."))
        return back(request, reverse("web:pipeline"))
    try:
        lead = selectors.lead_access(user=request.user, lead_id=lead_id)
        activity_log(lead_id=lead.pk, actor=user_of(request), kind="call",
                     outcome=outcome, note=request.POST.get("note", "")[:2000])  # fmt: skip
    except NotFound as exc:
        raise Http404 from exc
    except LeadflowError as exc:
        messages.error(request, error_text(exc))
        return back(request, reverse("web:pipeline"))
    messages.success(request, _("Call logged: %(outcome)s (%(lead)s).") % {
        "outcome": ActivityOutcome(outcome).label,
        "lead": lead.full_name or lead.email,
    })  # fmt: skip
    return back(request, reverse("web:pipeline"))


@require_POST
@requires(Can.MANAGE_TEAMS)
def handoff_reassign_view(request: HttpRequest, handoff_id: int) -> HttpResponse:
    """A manager hands an open handoff to another rep; htmx gets the row back in place."""
    from handoff.services import handoff_reassign
    from leadflow.filters import as_id

    error = None
    try:
        handoff_reassign(handoff_id=handoff_id, assignee_id=as_id(request.POST.get("assignee", ""))
                         or 0, actor=user_of(request))  # fmt: skip
    except LeadflowError as exc:
        if isinstance(exc, NotFound):
            raise Http404 from exc
        error = error_text(exc)
    h = _decorate(
        Handoff.objects.select_related(
            "lead", "lead__scores", "qualification", "team", "assignee", "definition"
        ).get(pk=handoff_id),
        request.user,
    )
    context = {"h": h, "error": error, "reps": _reps_by_team(request.user)}
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "web/partials/handoff_row.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Re-assigned to %s.") % getattr(h.assignee, "username", ""))
    return back(request, reverse("web:inbox") + "?tab=team")
