"""Leads: the list (filters, search, sort, keyset pages, bulk archive, CSV export) and the lead
page (fields, score breakdown, timeline, why (not) MQL, transitions)."""

from __future__ import annotations

import base64
import csv
import json
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from leadflow.csvcells import safe_row
from leadflow.errors import CriteriaNotMet, LeadflowError, NotFound, ValidationFailed
from leadflow.filters import as_id
from leadflow.permissions import user_of
from leadflow.problems import validation_failed
from leads import selectors
from leads.access import Can, may, reach
from leads.choices import (
    ArchiveReason,
    DisqualifyReason,
    Industry,
    LeadState,
    LostReason,
    Source,
)
from leads.filters import LeadFilter
from leads.models import Lead
from leads.normalize import parse_amount
from leads.serializers import LEAD_FIELDS, SALES_FIELDS, LeadFieldsSerializer
from leads.services.leads import lead_may_edit, lead_update
from leads.services.transitions import TransitionArgs, available_transitions, lead_transition
from scoring.selectors import lead_score_breakdown
from web.criteria import criteria_by_code, describe, reason_choices, reason_label
from web.roles import requires
from web.templatetags.ui import field_label
from web.views.base import back, error_text, field_errors, flash_error, object_errors

if TYPE_CHECKING:
    from leadflow.types import Caller

PAGE_SIZE = 50
SORTS: dict[str, tuple[str, bool, Any]] = {  # key -> (field, descending, label)
    "-created": ("created_at", True, gettext_lazy("Newest")),
    "created": ("created_at", False, gettext_lazy("Oldest")),
    "-score": ("sort_score", True, gettext_lazy("Highest score")),
    "-win": ("sort_win", True, gettext_lazy("Most likely to win")),
    "email": ("email", False, gettext_lazy("E-mail")),
}
# Family name first, as Japanese forms (and business cards) have it.
NAMES = ["last_name", "first_name", "last_name_kana", "first_name_kana"]
EDITABLE = NAMES + [f for f in LEAD_FIELDS if f not in ("email", "attributes", "consent", *NAMES)]
EXPORT_FIELDS = ["id", "email", *[f for f in LEAD_FIELDS if f not in ("email", "attributes")],
                 *SALES_FIELDS, "state", "fit", "engagement", "score", "owner", "team",
                 "created_at", "state_changed_at"]  # fmt: skip


def _filtered(request: HttpRequest) -> tuple[LeadFilter, QuerySet[Lead]]:
    qs = selectors.lead_list(user=request.user).annotate(
        sort_score=Coalesce(F("scores__total"), Value(Decimal(0))),
        # No probability (no model yet) sorts below every probability.
        sort_win=Coalesce(F("scores__win_probability"), Value(-1.0)),
    )
    f = LeadFilter(request.GET, queryset=qs, request=request)
    if not f.is_valid():
        return f, qs.none()
    if not [v for v in request.GET.getlist("state") if v]:
        # Archived leads are out of the way unless asked for by their state.
        return f, f.qs.exclude(state=LeadState.ARCHIVED)
    return f, f.qs


def _encode(value: Any, pk: int) -> str:
    raw = value.isoformat() if isinstance(value, datetime) else str(value)
    return base64.urlsafe_b64encode(json.dumps([raw, pk]).encode()).decode()


def _decode(cursor: str, field: str) -> tuple[Any, int] | None:
    """A cursor as (sort value, id); None for anything that is not one we wrote."""
    try:
        raw, pk = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        value: Any = str(raw)
        if field == "created_at":
            value = parse_datetime(value)
        elif field == "sort_score":
            value = Decimal(value)
            if not value.is_finite() or abs(value) > 10**12:
                return None
        elif field == "sort_win":
            value = float(value)
            if not -1.0 <= value <= 1.0:
                return None
        pk = int(pk)
        if value is None or not 0 < pk < 2**63:
            return None
        return value, pk
    except (ValueError, TypeError, InvalidOperation, json.JSONDecodeError, OverflowError):
        return None


def keyset_page(
    qs: QuerySet[Lead], sort: str, cursor: str | None, *, backwards: bool = False
) -> tuple[list[Lead], str | None, str | None]:
    """One page in `sort` order after `cursor` (the last row of the page before), or, going
    `backwards`, before it (the first row of the page after): an index range read, however deep
    the page. Returns the rows and the cursors of the next and the previous page."""
    field, desc, _label = SORTS[sort]
    reverse = desc != backwards
    order = [f"-{field}", "-id"] if reverse else [field, "id"]
    after = _decode(cursor, field) if cursor else None
    if after is not None:
        op = "lt" if reverse else "gt"
        value, pk = after
        qs = qs.filter(Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"id__{op}": pk}))
    rows = list(qs.select_related("owner", "team").order_by(*order)[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    if backwards:
        rows.reverse()
    if not rows:
        return rows, None, None
    has_next, has_prev = (True, more) if backwards else (more, after is not None)
    return (
        rows,
        _encode(getattr(rows[-1], field), rows[-1].pk) if has_next else None,
        _encode(getattr(rows[0], field), rows[0].pk) if has_prev else None,
    )


def _people_and_teams(user: Caller) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Whom the owner and team filters offer: the reps and teams the user may see leads of."""
    from django.contrib.auth import get_user_model

    from accounts.models import Team

    teams = Team.objects.order_by("name")
    r = reach(user)
    if not r.everything:
        teams = teams.filter(pk__in=r.managed_teams | r.rep_teams)
    people = (
        get_user_model()
        .objects.filter(team_memberships__team__in=teams, is_active=True)
        .distinct()
        .order_by("username")
    )
    return list(people.values_list("pk", "username")), list(teams.values_list("pk", "name"))


@require_GET
@requires(Can.READ)
def lead_list(request: HttpRequest) -> HttpResponse:
    f, qs = _filtered(request)
    sort = request.GET.get("sort", "-created")
    sort = sort if sort in SORTS else "-created"
    backwards = request.GET.get("dir") == "prev"
    rows, next_cursor, prev_cursor = keyset_page(
        qs, sort, request.GET.get("cursor"), backwards=backwards
    )
    people, teams = _people_and_teams(request.user)
    return render(request, "web/lead_list.html", {
        "filter": f, "leads": rows, "next_cursor": next_cursor, "prev_cursor": prev_cursor,
        "total": qs.count(), "sort": sort,
        "sorts": [(k, v[2]) for k, v in SORTS.items()], "states": LeadState.choices,
        "sources": Source.choices, "archive_reasons": ArchiveReason.choices,
        "may_archive": may(request.user, Can.ARCHIVE),
        "selected_states": request.GET.getlist("state"),
        "selected_sources": request.GET.getlist("source"),
        "people": people, "teams": teams,
        "filter_errors": filter_error_lines(f),
    })  # fmt: skip


def filter_error_lines(f: LeadFilter) -> list[str]:
    """The filter form's problems, each named by its field's label."""
    labels = {"min_score": _("Score at least"), "team": _("Team"), "owner": _("Owner")}
    return [
        f"{labels.get(name, field_label(name))}: {' '.join(errs)}"
        for name, errs in f.errors.items()
    ]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _export_rows(qs: QuerySet[Lead]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a BOM, so spreadsheet software reads UTF-8 (and Japanese) correctly
    yield writer.writerow(EXPORT_FIELDS)
    names = [f for f in EXPORT_FIELDS if f not in ("fit", "engagement", "score", "owner", "team")]
    rows = qs.values_list(
        *names, "scores__fit", "scores__engagement", "scores__total",
        "owner__username", "team__name",
    ).order_by("id")  # fmt: skip
    for values in rows.iterator(chunk_size=2000):
        record = dict(
            zip([*names, "fit", "engagement", "score", "owner", "team"], values, strict=True)
        )
        for key in ("created_at", "state_changed_at"):
            if record[key] is not None:
                record[key] = timezone.localtime(record[key]).isoformat()
        yield writer.writerow(
            safe_row(["" if record[k] is None else record[k] for k in EXPORT_FIELDS])
        )


@require_GET
@requires(Can.READ)
def lead_export(request: HttpRequest) -> StreamingHttpResponse:
    """The current filter as CSV, streamed: memory stays flat however many leads match."""
    _f, qs = _filtered(request)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(_export_rows(qs), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="leads-{stamp}.csv"'
    return response


@require_POST
@requires(Can.ARCHIVE)
def lead_bulk_archive(request: HttpRequest) -> HttpResponse:
    reason = request.POST.get("reason", "")
    ids = [i for i in map(as_id, request.POST.getlist("lead")) if i is not None][: PAGE_SIZE * 4]
    done, failed = 0, []
    for lead_id in ids:
        try:
            lead_transition(lead_id=lead_id, name="archive", actor=user_of(request),
                            args=TransitionArgs(reason=reason))  # fmt: skip
            done += 1
        except LeadflowError as exc:
            failed.append(f"#{lead_id}: {error_text(exc)}")
    if done:
        messages.success(request, _("%(n)d leads archived.") % {"n": done})
    if failed:
        messages.error(request, _("Not archived: %s") % "; ".join(failed[:10]))
    if not ids:
        messages.warning(request, _("Select the leads to archive."))
    return back(request, reverse("web:lead-list"))


def industry_choices(current: str) -> list[tuple[str, str]]:
    """The industries to choose from, with a value typed elsewhere (an import) kept as it is."""
    choices = [(str(v), str(label)) for v, label in Industry.choices]
    if current and current not in Industry.values:
        choices.append((current, current))
    return choices


PAST_MQL = (LeadState.MQL, LeadState.SAL, LeadState.SQL, LeadState.WON, LeadState.LOST)
PAST_SQL = (LeadState.SQL, LeadState.WON, LeadState.LOST)


def _stored(lead: Lead, name: str, stage: str) -> dict[str, Any] | None:
    """The evaluation recorded with the lead's last `name` transition: what moved it."""
    row = (
        lead.history.filter(transition=name)
        .select_related("definition")
        .order_by("-occurred_at", "-id")
        .first()
    )
    if row is None:
        return None
    document = row.definition.document if row.definition else None
    return {
        "stage": stage, "stored": True, "at": row.occurred_at, "version": row.definition_id,
        "override": row.override, "note": row.note,
        "criteria": describe(row.evaluation, document, stage),
        "passed": row.override or all(c.get("passed") for c in row.evaluation or []),
    }  # fmt: skip


def _evaluations(lead: Lead, definition: Any, now: Any) -> list[dict[str, Any]]:
    """Why the lead is (or is not) past each stage: once past it, the evaluation stored with
    the transition that moved it; before it, today's evaluation against the published
    definition."""
    out: list[dict[str, Any]] = []
    for stage, past, name in ((LeadState.MQL, PAST_MQL, "qualify_mql"),
                              (LeadState.SQL, PAST_SQL, "qualify_sql")):  # fmt: skip
        if lead.state in past:
            stored = _stored(lead, name, stage)
            out.append(stored or {"stage": stage, "stored": True, "claimed": True})
        elif definition is not None and (stage == LeadState.MQL or lead.state == LeadState.SAL):
            raw = selectors.lead_evaluate(lead=lead, stage=stage, definition=definition, now=now)
            out.append({
                "stage": stage, "stored": False, "version": definition.pk,
                "criteria": describe(raw, definition.document, stage),
                "passed": all(c["passed"] for c in raw),
            })  # fmt: skip
    return out


def _timeline(lead: Lead) -> list[dict[str, Any]]:
    """The lead's history and, from the integrations, what its web forms sent."""
    from integrations.models import WebFormSubmission

    items = selectors.lead_history(lead=lead, limit=100)
    items += [
        {"kind": "submission", "at": s.submitted_at, "submission": s}
        for s in WebFormSubmission.objects.filter(lead=lead).select_related("form")[:50]
    ]
    items.sort(key=lambda item: item["at"], reverse=True)
    return items[:100]


def _lead_context(request: HttpRequest, lead: Lead) -> dict[str, Any]:
    now = timezone.now()
    definition = selectors.definition_published()
    evaluations = _evaluations(lead, definition, now)
    qualified_under = lead.definition or definition
    header = [p for p in (lead.company, lead.title, lead.email) if p]
    return {
        "lead": lead, "definition": definition, "evaluations": evaluations,
        "header_parts": header,
        "breakdown": lead_score_breakdown(lead=lead, as_of=now),
        "timeline": _timeline(lead),
        "transitions": available_transitions(lead, request.user),
        "may_edit": lead_may_edit(lead, request.user, {"company"}),
        "may_qualify": lead_may_edit(lead, request.user, set(SALES_FIELDS))
        and lead.state in (LeadState.TAL, LeadState.SAL, LeadState.SQL),  # who hears them
        "may_override": may(request.user, Can.OVERRIDE),
        "reject_reasons": reason_choices(
            qualified_under.document if qualified_under else None,
            "tql" if lead.state == LeadState.TQL else "mql",  # a TQL goes back with a TQL reason
        ),
        "lost_reasons": LostReason.choices, "disqualify_reasons": DisqualifyReason.choices,
        "archive_reasons": ArchiveReason.choices, "editable": EDITABLE,
        "sources": Source.choices, "industries": industry_choices(lead.industry),
        "errors": {}, "part": None, "values": {}, "win": _win(lead),
    }  # fmt: skip


def _win(lead: Lead) -> dict[str, Any] | None:
    """The predictive score's reasons for this lead (None without a model)."""
    from analytics.prediction import explain
    from web.views.dashboard import factor_label

    why = explain(lead)
    if why is None:
        return None
    for f in why["factors"]:
        f["label"] = factor_label(f["feature"], f["value"], f["count"])
    return why


@require_GET
@requires(Can.READ)
@object_errors
def lead_detail(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = selectors.lead_access(user=request.user, lead_id=lead_id)
    return render(request, "web/lead_detail.html", _lead_context(request, lead))


def _form_fields(post: Any, names: list[str]) -> dict[str, Any]:
    """Posted form fields as the API takes them: an empty input clears an optional value."""
    out: dict[str, Any] = {}
    for name in names:
        if name not in post:
            continue
        value = post.get(name, "").strip()
        if name == "budget":
            out[name] = parse_amount(value) or None
        elif name in ("company_size", "timeline"):
            out[name] = value or None
        elif name == "decision_maker":
            out[name] = {"true": True, "false": False}.get(value)
        else:
            out[name] = value
    return out


@require_POST
@requires(Can.READ)
@object_errors
def lead_edit(request: HttpRequest, lead_id: int) -> HttpResponse:
    """The lead's own fields (marketing, COO) or the qualification fields (sales)."""
    selectors.lead_access(user=request.user, lead_id=lead_id)
    names = SALES_FIELDS if request.POST.get("part") == "qualification" else EDITABLE
    s = LeadFieldsSerializer(
        data=_form_fields(request.POST, names), partial=True, context={"form_input": True}
    )
    try:
        if not s.is_valid():
            raise validation_failed(s.errors)
        lead_update(lead_id=lead_id, actor=user_of(request), fields=dict(s.validated_data))
    except ValidationFailed as exc:
        lead = selectors.lead_access(user=request.user, lead_id=lead_id)
        context = _lead_context(request, lead)
        # The form that was sent shows what was typed; the other keeps the stored values.
        context.update(errors=field_errors(exc), part=request.POST.get("part"),
                       values=request.POST)  # fmt: skip
        messages.error(request, _("The lead was not saved; see the marked fields."))
        return render(request, "web/lead_detail.html", context, status=400)
    except NotFound:
        raise
    except LeadflowError as exc:
        flash_error(request, exc)
        return redirect("web:lead-detail", lead_id=lead_id)
    messages.success(request, _("Saved."))
    return redirect("web:lead-detail", lead_id=lead_id)


def _failing_labels(lead_id: int, name: str, exc: CriteriaNotMet, user: Any) -> list[str]:
    """The failing criteria by their labels (codes never reach a page), read from the version
    they were evaluated under: the lead's, or the published one for a criterion it lacks."""
    from leads.selectors import definition_published

    stage = {"qualify_mql": "mql", "qualify_tql": "tql", "qualify_sql": "sql"}.get(name, "mql")
    lead = selectors.lead_access(user=user, lead_id=lead_id)
    published = definition_published()
    documents = [d.document for d in (lead.definition, published) if d is not None]
    labels = []
    for c in exc.criteria:
        if c["passed"]:
            continue
        known = [d for d in documents if c["code"] in criteria_by_code(d, stage)]
        labels.append(reason_label(c["code"], known[0] if known else None, stage))
    return labels


@require_POST
@requires(Can.READ)
@object_errors
def lead_transition_view(request: HttpRequest, lead_id: int, name: str) -> HttpResponse:
    amount_raw = parse_amount(request.POST.get("amount", ""))
    try:
        amount = Decimal(amount_raw) if amount_raw else None
    except InvalidOperation:
        messages.error(request, _("The amount must be a number."))
        return back(request, reverse("web:lead-detail", args=[lead_id]))
    args = TransitionArgs(
        reason=request.POST.get("reason", "")[:64], note=request.POST.get("note", "")[:2000],
        amount=amount, override=request.POST.get("override") == "on",
    )  # fmt: skip
    try:
        lead = lead_transition(lead_id=lead_id, name=name, actor=user_of(request), args=args)
    except NotFound:
        raise
    except LeadflowError as exc:
        if isinstance(exc, CriteriaNotMet):
            messages.error(request, _("The criteria are not met: %s") % ", ".join(
                _failing_labels(lead_id, name, exc, request.user)))  # fmt: skip
        else:
            flash_error(request, exc)
        return back(request, reverse("web:lead-detail", args=[lead_id]))
    from web.templatetags.ui import state_label, transition_label

    messages.success(request, _("%(transition)s: the lead is now %(state)s.") % {
        "transition": transition_label(name), "state": state_label(lead.state)})  # fmt: skip
    if not selectors.lead_list(user=request.user).filter(pk=lead_id).exists():
        # Handed on (a TQL to field sales, a lead rejected back): the page is no longer theirs.
        return redirect("web:pipeline" if may(request.user, Can.KEEP_PIPELINE) else "web:lead-list")
    return back(request, reverse("web:lead-detail", args=[lead_id]))
