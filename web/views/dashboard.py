"""The dashboard: the waterfall, velocity, handoff SLA, rejections by criterion, recycling and won
revenue by source and campaign, for a period and a definition version, scoped by role."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Team
from analytics import funnel, inside_sales, reports
from analytics.periods import Period, period_from
from analytics.selectors import lead_scope_sql, report_handoffs, report_leads
from leadflow.errors import NotFound, ValidationFailed
from leadflow.filters import as_id
from leadflow.permissions import user_of
from leads.access import Can, reach
from leads.choices import Lane, LeadState
from leads.selectors import definition_list, definition_published
from web.criteria import reason_label
from web.roles import requires
from web.templatetags.ui import source_label, state_label
from web.views.base import error_text

if TYPE_CHECKING:
    from leadflow.types import Caller


def _period(request: HttpRequest) -> Period:
    """The days asked for; by default the last 90 days up to today, whole days like the dates
    the form shows (what submitting the form unchanged would ask for)."""
    try:
        return period_from(request.GET)
    except ValidationFailed as exc:
        messages.error(request, error_text(exc))
        return period_from({})


def _scope_text(user: Caller) -> str:
    """Whose figures the page shows (SPEC §15: a rep their own, a manager their teams')."""
    r = reach(user)
    if r.everything:
        return ""
    if r.is_manager:
        return _("Your teams' figures")
    return _("Your own figures")


def _funnel(
    period: Period, user: Any, definition_id: int | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The stages of the period (all versions, or the one chosen) and the MQL figures per
    definition version at entry, from one report per grouping."""
    scope = lead_scope_sql(user)
    by_version = funnel.funnel_report(
        period=period, group_by="definition", scope=scope, total=definition_id is None
    )
    versions = []
    chosen: list[dict[str, Any]] | None = None
    for group in by_version["groups"]:
        if group["key"] == str(definition_id):
            chosen = group["stages"]
        if group["key"]:
            mql = next(s for s in group["stages"] if s["stage"] == "mql")
            versions.append(
                {"version": int(group["key"]), "first": mql["first"], "reentry": mql["reentry"]}
            )
    if definition_id is None:
        chosen = by_version["stages"]
    stages = [
        s for s in chosen or funnel.empty_stages()
        if s["stage"] not in IS_STAGES or s["first"]["entered"] or s["reentry"]["entered"]
    ]  # fmt: skip
    return stages, sorted(versions, key=lambda r: r["version"])


# Where each lane enters the line (SPEC §13): an MGL at mql, a TGL at tal, an SGL at sal; the
# stages the lanes table shows after that.
LANE_ENTRY = {Lane.MGL: LeadState.MQL, Lane.TGL: LeadState.TAL, Lane.SGL: LeadState.SAL}
LANE_STAGES = (LeadState.TAL, LeadState.TQL, LeadState.SAL, LeadState.SQL, LeadState.WON)
IS_STAGES = (LeadState.TAL, LeadState.TQL)


def _lanes(period: Period, user: Any) -> list[dict[str, Any]]:
    """Each lane side by side: the leads that entered the line through it in the period, the
    stages they reached, and their conversion to SQL and won (entries of the period, like the
    waterfall)."""
    report = funnel.funnel_report(period=period, group_by="lane", scope=lead_scope_sql(user))
    groups = {g["key"]: {s["stage"]: s["first"]["entered"] for s in g["stages"]}
              for g in report["groups"]}  # fmt: skip
    rows = []
    for lane, entry in LANE_ENTRY.items():
        entered = groups.get(lane, {})
        volume = entered.get(entry, 0)
        rows.append({
            "lane": lane, "label": lane.label, "entered": volume,
            "stages": [entered.get(s, 0) for s in LANE_STAGES],
            "to_sql": round(entered.get(LeadState.SQL, 0) / volume, 4) if volume else None,
            "to_won": round(entered.get(LeadState.WON, 0) / volume, 4) if volume else None,
        })  # fmt: skip
    return rows


@require_GET
@requires(Can.READ)
def dashboard(request: HttpRequest) -> HttpResponse:
    period = _period(request)
    raw = request.GET.get("definition", "")
    definition_id = as_id(raw)
    definitions = list(definition_list().exclude(status="draft")[:50])
    chosen = next((d for d in definitions if d.pk == definition_id), None) or definition_published()
    leads = report_leads(request.user)
    stages, versions = _funnel(period, request.user, definition_id)
    lanes = _lanes(period, request.user)
    handoffs = reports.handoff_report(period=period, handoffs=report_handoffs(request.user))
    criteria = reports.criteria_report(definition=chosen, leads=leads) if chosen else None
    recycling = reports.recycling_report(period=period, leads=leads)
    revenue = reports.revenue_report(period=period, leads=leads, definition_id=definition_id)
    team_names = dict(
        Team.objects.filter(pk__in={r["team"] for r in handoffs["teams"]}).values_list("pk", "name")
    )
    user_names = dict(
        get_user_model()
        .objects.filter(pk__in={r["rep"] for r in handoffs["reps"]})
        .values_list("pk", "username")
    )
    document = chosen.document if chosen else None
    for c in (criteria or {}).get("criteria", []):
        c["label"] = reason_label(c["code"], document)
    for r in recycling["by_reason"]:
        r["label"] = reason_label(r["reason"], document)
    chart = {
        "stages": [str(state_label(s["stage"])) for s in stages],
        "first": [s["first"]["entered"] for s in stages],
        "reentry": [s["reentry"]["entered"] for s in stages],
        "conversion": [s["first"]["conversion_rate"] for s in stages],
        "median_days": [s["first"]["median_days"] for s in stages],
        "rejections": {c["label"]: c["rejections"] for c in (criteria or {}).get("criteria", [])},
        "revenue": {
            str(source_label(r["source"])): float(r["amount"]) for r in revenue["by_source"]
        },
    }
    return render(request, "web/dashboard.html", {
        "period": period, "stages": stages, "handoffs": handoffs, "criteria": criteria,
        "recycling": recycling, "revenue": revenue, "chart": chart, "definitions": definitions,
        "definition_id": definition_id, "chosen": chosen, "team_names": team_names,
        "user_names": user_names,
        "versions": versions, "lanes": lanes, "lane_stages": LANE_STAGES,
        "from_value": timezone.localtime(period.start).date().isoformat(),
        "to_value": timezone.localtime(period.end - timedelta(microseconds=1)).date().isoformat(),
        "scope": _scope_text(request.user),
    })  # fmt: skip


@require_GET
@requires(Can.READ_IS_REPORT)
def inside_sales_page(request: HttpRequest) -> HttpResponse:
    """The inside-sales report (SPEC §13) per IS team and rep, within the user's figures: a rep
    their own row, a manager their teams', marketing and the COO every team's."""
    period = _period(request)
    report = inside_sales.inside_sales_report(period=period, user=request.user)
    published = definition_published()
    document = published.document if published else None
    names = dict(Team.objects.filter(pk__in={r["team"] for r in report["teams"]})
                 .values_list("pk", "name"))  # fmt: skip
    users = dict(get_user_model().objects.filter(pk__in={r["rep"] for r in report["reps"]})
                 .values_list("pk", "username"))  # fmt: skip
    for row in report["teams"] + report["reps"]:
        row["team_name"] = names.get(row["team"], "—")
        row["rep_name"] = users.get(row["rep"], "—")
        row["rejections"] = [(reason_label(code, document, "mql"), n)
                             for code, n in row["rejections_by_criterion"].items()]  # fmt: skip
        row["sent_back"] = [(reason_label(code, document, "tql"), n)
                            for code, n in row["tql_rejections_by_criterion"].items()]  # fmt: skip
    return render(request, "web/inside_sales.html", {
        "report": report, "period": period, "scope": _scope_text(request.user),
        "from_value": timezone.localtime(period.start).date().isoformat(),
        "to_value": timezone.localtime(period.end - timedelta(microseconds=1)).date().isoformat(),
    })  # fmt: skip


ATTRIBUTE_LABELS = {
    "company_size": gettext_lazy("Company size"),
    "title_seniority": gettext_lazy("Title seniority"),
    "free_mail": gettext_lazy("Free-mail address"),
    "engagement_band": gettext_lazy("Engagement score today"),
    "fit_band": gettext_lazy("Fit score today"),
    "activity": gettext_lazy("Activity in the 30 days before"),
}


def _attribute_label(name: str) -> str:
    from web.labels import FIELD_LABELS

    label = ATTRIBUTE_LABELS.get(name) or FIELD_LABELS.get(name)
    return str(label) if label else name


def factor_label(feature: str, value: str, count: int | None = None) -> str:
    """A feature of the predictive score as a person reads it: "Industry = Manufacturing", or
    "webinar attended × 3 (last 90 days)"."""
    from analytics.prediction import WINDOW_DAYS
    from web.criteria import event_label

    if feature == "events":
        if count is None:
            return _("%(event)s (per event, last %(days)s days)") % {
                "event": event_label(value), "days": WINDOW_DAYS,
            }  # fmt: skip
        return _("%(event)s × %(n)s (last %(days)s days)") % {
            "event": event_label(value), "n": count, "days": WINDOW_DAYS,
        }  # fmt: skip
    return f"{_attribute_label(feature)} = {_value_label(feature, value)}"


def _value_label(attribute: str, value: str) -> str:
    if value == "":
        return _("(empty)")
    if attribute == "source":
        return str(source_label(value))
    if attribute == "industry":
        from leads.choices import Industry

        return str(Industry(value).label) if value in Industry.values else value
    if attribute == "free_mail":
        return _("yes") if value == "yes" else _("no")
    if attribute == "title_seniority":
        return _("senior") if value == "senior" else _("other")
    if attribute == "activity":
        from web.criteria import event_label

        return event_label(value)
    return value


def _win_model_context(request: HttpRequest) -> dict[str, Any]:
    """The predictive score's card for the COO, with the training job the page was sent back
    with (`?job=`), if it is one."""
    from analytics.prediction import model_card

    card = model_card()
    for w in card.get("weights", []):
        w["label"] = factor_label(w["feature"], w["value"])
    card["weights_shown"] = card.get("weights", [])[:10]
    if job := _job_asked(request, "win_model"):
        card["job"] = job
        card["percent"] = round(job.progress * 100)
    return card


def _job_asked(request: HttpRequest, kind: str) -> Any:
    """The job of `kind` the page was sent back with (`?job=`), if it is one the user may see."""
    from leadflow.jobs import job_get

    raw = request.GET.get("job", "")
    if not (raw.isascii() and raw.isdigit() and len(raw) < 19):  # a bigint, or no job
        return None
    try:
        job = job_get(job_id=int(raw), user=user_of(request))
    except NotFound:
        return None
    return job if job.kind == kind else None


@require_POST
@requires(Can.READ)
def advisor_compute(request: HttpRequest) -> HttpResponse:
    """Compute the advisor's figures for the period and stage anew, in a job; the page shows
    its progress, then a link to the figures."""
    from analytics import advisor

    try:
        period = period_from(request.POST)
    except ValidationFailed as exc:
        messages.error(request, error_text(exc))
        return redirect("web:advisor")
    asked = request.POST.get("stage", "")
    stage = asked if asked in advisor.STAGES else "mql"
    query = {k: request.POST.get(k, "") for k in ("from", "to")} | {"stage": stage}
    job = advisor.advisor_start(
        period=period, stages=[stage], user=user_of(request), definition=definition_published(),
        query=urlencode(query),
    )  # fmt: skip
    return redirect(f"{reverse('web:advisor')}?{urlencode({**query, 'job': job.pk})}#as-of")


@require_POST
@requires(Can.DEFINE)
def win_model_train(request: HttpRequest) -> HttpResponse:
    """Train the predictive score now (a job; the advisor page shows its progress)."""
    from analytics.prediction import win_model_start

    job = win_model_start(actor=user_of(request))
    return redirect(f"{reverse('web:advisor')}?job={job.pk}#win-model")


@require_GET
@requires(Can.READ)
def advisor_page(request: HttpRequest) -> HttpResponse:
    """The definition advisor (SPEC §14): what predicts winning among the leads whose outcome
    became known in the period, the threshold curves, and the findings ranked by the wins at
    stake, each with the draft it suggests (the COO makes it with one click)."""
    from analytics import advisor
    from leads.access import may

    period = _period(request)
    asked = request.GET.get("stage", "")
    stage = asked if asked in advisor.STAGES else "mql"
    published = definition_published()
    from_value = timezone.localtime(period.start).date().isoformat()
    to_value = timezone.localtime(period.end - timedelta(microseconds=1)).date().isoformat()
    stored, job = advisor.advisor_page_figures(
        period=period, stage=stage, user=request.user, definition=published,
        query=urlencode({"from": from_value, "to": to_value, "stage": stage}),
    )  # fmt: skip
    job = job or _job_asked(request, "advisor")
    report = stored or {"attributes": [], "values": [], "criteria": [], "thresholds": [],
                        "findings": [], "base_rate": None}  # fmt: skip
    document = published.document if published else None
    for row in report["attributes"] + report["values"]:
        row["attribute_label"] = _attribute_label(row["attribute"])
        row["value_label"] = _value_label(row["attribute"], row["value"])
    for row in report["criteria"] + report["thresholds"]:
        row["criterion_label"] = reason_label(row["code"], document, "mql")
    for f in report["findings"]:
        if "attribute" in f:
            f["attribute_label"] = _attribute_label(f["attribute"])
            f["value_label"] = _value_label(f["attribute"], str(f["value"]))
        if "code" in f:
            f["criterion_label"] = reason_label(f["code"], document, "mql")
        if f["suggestion"]:
            f["suggestion"]["criterion_label"] = reason_label(
                f["suggestion"]["code"], document, "mql"
            )
    top = report["attributes"][:12]
    chart = {
        "base": report["base_rate"],
        "attributes": {
            "labels": [f"{r['attribute_label']}: {r['value_label']}" for r in top],
            "rates": [r["win_rate"] for r in top],
            "intervals": [r["interval"] for r in top],
        },
        "thresholds": [
            {"label": t["criterion_label"], "current": t["current"], "suggested": t["suggested"],
             "points": t["points"]}
            for t in report["thresholds"]
        ],
    }  # fmt: skip
    may_define = may(request.user, Can.DEFINE)
    model = _win_model_context(request) if may_define else None
    if model and model.get("calibration"):
        chart["calibration"] = [
            {"predicted": b["predicted"], "actual": b["actual"], "leads": b["leads"]}
            for b in model["calibration"]
        ]
    return render(request, "web/advisor.html", {
        "report": report if stored else None, "chart": chart, "period": period, "stage": stage,
        "model": model, "job": job, "percent": round(job.progress * 100) if job else 0,
        "stages": [("mql", "MQL"), ("sql", "SQL")], "published": published,
        "scope": _scope_text(request.user), "may_draft": may(request.user, Can.DEFINE),
        "from_value": from_value, "to_value": to_value,
    })  # fmt: skip
