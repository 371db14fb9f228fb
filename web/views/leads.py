"""Leads: the list (filters, search, sort, keyset pages, bulk archive, CSV export) and the lead
page (fields, score breakdown, timeline, why (not) MQL, transitions)."""

from __future__ import annotations

import base64
import csv
import json
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

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

from leadflow.choices import Role
from leadflow.errors import CriteriaNotMet, LeadflowError, NotFound, ValidationFailed
from leadflow.filters import as_id
from leadflow.permissions import has_role
from leadflow.problems import validation_failed
from leads import selectors
from leads.choices import OTHER_REASON, ArchiveReason, LeadState, LostReason, Source
from leads.filters import LeadFilter
from leads.models import Lead
from leads.serializers import LEAD_FIELDS, SALES_FIELDS, LeadFieldsSerializer
from leads.services.leads import lead_may_edit, lead_update
from leads.services.transitions import TransitionArgs, available_transitions, lead_transition
from scoring.selectors import lead_score_breakdown
from web.roles import role_required
from web.views.base import back, error_text, field_errors, flash_error, object_errors

PAGE_SIZE = 50
SORTS: dict[str, tuple[str, bool, Any]] = {  # key -> (field, descending, label)
    "-created": ("created_at", True, gettext_lazy("Newest")),
    "created": ("created_at", False, gettext_lazy("Oldest")),
    "-score": ("sort_score", True, gettext_lazy("Highest score")),
    "email": ("email", False, gettext_lazy("E-mail")),
}
EDITABLE = [f for f in LEAD_FIELDS if f not in ("email", "attributes", "consent")]
EXPORT_FIELDS = ["id", "email", *[f for f in LEAD_FIELDS if f not in ("email", "attributes")],
                 *SALES_FIELDS, "state", "fit", "engagement", "score", "owner", "team",
                 "created_at", "state_changed_at"]  # fmt: skip


def _filtered(request: HttpRequest) -> tuple[LeadFilter, QuerySet[Lead]]:
    qs = selectors.lead_list(user=request.user).annotate(
        sort_score=Coalesce(F("scores__total"), Value(Decimal(0)))
    )
    f = LeadFilter(request.GET, queryset=qs, request=request)
    return f, (f.qs if f.is_valid() else qs.none())


def _encode(value: Any, pk: int) -> str:
    raw = value.isoformat() if isinstance(value, datetime) else str(value)
    return base64.urlsafe_b64encode(json.dumps([raw, pk]).encode()).decode()


def _decode(cursor: str, field: str) -> tuple[Any, int] | None:
    try:
        raw, pk = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        value: Any = raw
        if field == "created_at":
            value = parse_datetime(raw)
        elif field == "sort_score":
            value = Decimal(raw)
        return (value, int(pk)) if value is not None else None
    except (ValueError, TypeError, InvalidOperation, json.JSONDecodeError):
        return None


def keyset_page(qs: QuerySet[Lead], sort: str, cursor: str | None) -> tuple[list[Lead], str | None]:
    """One page in `sort` order after `cursor` (the last row of the page before), and the cursor
    of the next page: an index range read, however deep the page."""
    field, desc, _label = SORTS[sort]
    order = [f"-{field}", "-id"] if desc else [field, "id"]
    after = _decode(cursor, field) if cursor else None
    if after is not None:
        op = "lt" if desc else "gt"
        value, pk = after
        qs = qs.filter(Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"id__{op}": pk}))
    rows = list(qs.select_related("owner", "team").order_by(*order)[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return rows, (_encode(getattr(rows[-1], field), rows[-1].pk) if more else None)


@require_GET
@role_required()
def lead_list(request: HttpRequest) -> HttpResponse:
    f, qs = _filtered(request)
    sort = request.GET.get("sort", "-created")
    sort = sort if sort in SORTS else "-created"
    rows, next_cursor = keyset_page(qs, sort, request.GET.get("cursor"))
    return render(request, "web/lead_list.html", {
        "filter": f, "leads": rows, "next_cursor": next_cursor, "sort": sort,
        "sorts": [(k, v[2]) for k, v in SORTS.items()], "states": LeadState.choices,
        "sources": Source.choices, "archive_reasons": ArchiveReason.choices,
        "may_archive": has_role(request.user, Role.MARKETING),
        "selected_states": request.GET.getlist("state"),
        "selected_sources": request.GET.getlist("source"),
    })  # fmt: skip


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
        yield writer.writerow(["" if record[k] is None else record[k] for k in EXPORT_FIELDS])


@require_GET
@role_required()
def lead_export(request: HttpRequest) -> StreamingHttpResponse:
    """The current filter as CSV, streamed: memory stays flat however many leads match."""
    _f, qs = _filtered(request)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(_export_rows(qs), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="leads-{stamp}.csv"'
    return response


@require_POST
@role_required(Role.MARKETING)
def lead_bulk_archive(request: HttpRequest) -> HttpResponse:
    reason = request.POST.get("reason", "")
    ids = [i for i in map(as_id, request.POST.getlist("lead")) if i is not None][: PAGE_SIZE * 4]
    done, failed = 0, []
    for lead_id in ids:
        try:
            lead_transition(lead_id=lead_id, name="archive", actor=request.user,
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


def _lead_context(request: HttpRequest, lead: Lead) -> dict[str, Any]:
    now = timezone.now()
    definition = selectors.definition_published()
    evaluations = []
    if definition is not None:
        stages = [LeadState.MQL]
        if lead.state in (LeadState.SAL, LeadState.SQL):
            stages.append(LeadState.SQL)
        for stage in stages:
            criteria = selectors.lead_evaluate(
                lead=lead, stage=stage, definition=definition, now=now
            )
            evaluations.append({"stage": stage, "criteria": criteria,
                                "passed": all(c["passed"] for c in criteria)})  # fmt: skip
    qualified_under = lead.definition or definition
    mql_stage = qualified_under.stage(LeadState.MQL) if qualified_under else {}
    mql_codes = [c["code"] for c in mql_stage.get("criteria", [])]
    return {
        "lead": lead, "definition": definition, "evaluations": evaluations,
        "breakdown": lead_score_breakdown(lead=lead, as_of=now),
        "timeline": selectors.lead_timeline(lead=lead, before=None, limit=100),
        "transitions": available_transitions(lead, request.user),
        "may_edit": lead_may_edit(lead, request.user, {"company"}),
        "may_qualify": lead_may_edit(lead, request.user, set(SALES_FIELDS))
        and lead.state in (LeadState.SAL, LeadState.SQL),
        "may_override": has_role(request.user, Role.COO),
        "reject_reasons": [*mql_codes, OTHER_REASON], "lost_reasons": LostReason.choices,
        "archive_reasons": ArchiveReason.choices, "editable": EDITABLE,
        "sources": Source.choices, "errors": {}, "values": {},
    }  # fmt: skip


@require_GET
@role_required()
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
        if name in ("company_size", "budget", "timeline"):
            out[name] = value or None
        elif name == "decision_maker":
            out[name] = {"true": True, "false": False}.get(value)
        else:
            out[name] = value
    return out


@require_POST
@role_required()
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
        lead_update(lead_id=lead_id, actor=request.user, fields=dict(s.validated_data))
    except ValidationFailed as exc:
        lead = selectors.lead_access(user=request.user, lead_id=lead_id)
        context = _lead_context(request, lead)
        context.update(errors=field_errors(exc), values=request.POST)
        messages.error(request, _("The lead was not saved; see the marked fields."))
        return render(request, "web/lead_detail.html", context, status=400)
    except NotFound:
        raise
    except LeadflowError as exc:
        flash_error(request, exc)
        return redirect("web:lead-detail", lead_id=lead_id)
    messages.success(request, _("Saved."))
    return redirect("web:lead-detail", lead_id=lead_id)


@require_POST
@role_required()
@object_errors
def lead_transition_view(request: HttpRequest, lead_id: int, name: str) -> HttpResponse:
    amount_raw = request.POST.get("amount", "").replace(",", "").strip()
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
        lead = lead_transition(lead_id=lead_id, name=name, actor=request.user, args=args)
    except NotFound:
        raise
    except LeadflowError as exc:
        if isinstance(exc, CriteriaNotMet):
            failing = [c["code"] for c in exc.criteria if not c["passed"]]
            messages.error(request, _("The criteria are not met: %s") % ", ".join(failing))
        else:
            flash_error(request, exc)
        return back(request, reverse("web:lead-detail", args=[lead_id]))
    from web.templatetags.ui import state_label, transition_label

    messages.success(request, _("%(transition)s: the lead is now %(state)s.") % {
        "transition": transition_label(name), "state": state_label(lead.state)})  # fmt: skip
    return back(request, reverse("web:lead-detail", args=[lead_id]))
