"""The dashboard: the waterfall, velocity, handoff SLA, rejections by criterion, recycling and won
revenue by source and campaign, for a period and a definition version, scoped by role."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.models import Team
from analytics import funnel, reports
from analytics.periods import Period, period_from
from analytics.selectors import lead_scope_sql, report_leads
from handoff.selectors import handoff_list
from leadflow.errors import ValidationFailed
from leadflow.filters import as_id
from leads.selectors import definition_list, definition_published
from web.roles import role_required
from web.templatetags.ui import source_label, state_label
from web.views.base import error_text


def _period(request: HttpRequest) -> Period:
    try:
        return period_from(request.GET)
    except ValidationFailed as exc:
        messages.error(request, error_text(exc))
        return period_from({})


def _funnel(period: Period, user: Any, definition_id: int | None) -> dict[str, Any]:
    scope = lead_scope_sql(user)
    if definition_id is None:
        return {"stages": funnel.funnel_report(period=period, group_by=None, scope=scope)["stages"]}
    by_version = funnel.funnel_report(period=period, group_by="definition", scope=scope)
    for group in by_version["groups"]:
        if group["key"] == str(definition_id):
            return {"stages": group["stages"]}
    return {"stages": funnel.empty_stages()}  # the version has no entries here


def _versions(period: Period, user: Any) -> list[dict[str, Any]]:
    """The MQL figures per definition version at entry: how each definition performed."""
    by_version = funnel.funnel_report(
        period=period, group_by="definition", scope=lead_scope_sql(user)
    )
    rows = []
    for group in by_version["groups"]:
        if not group["key"]:
            continue
        mql = next(s for s in group["stages"] if s["stage"] == "mql")
        rows.append(
            {"version": int(group["key"]), "first": mql["first"], "reentry": mql["reentry"]}
        )
    return sorted(rows, key=lambda r: r["version"])


def _revenue(attribution: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    by_source: dict[str, Decimal] = defaultdict(Decimal)
    for row in attribution["first_touch"]:
        by_source[row["source"]] += Decimal(row["won_amount"])
    campaigns = sorted(
        (r for r in attribution["first_touch"] if r["won"]),
        key=lambda r: -Decimal(r["won_amount"]),
    )
    return {
        "by_source": [{"source": k, "amount": v} for k, v in sorted(by_source.items()) if v],
        "by_campaign": campaigns[:15],
    }


@require_GET
@role_required()
def dashboard(request: HttpRequest) -> HttpResponse:
    period = _period(request)
    raw = request.GET.get("definition", "")
    definition_id = as_id(raw)
    definitions = list(definition_list().exclude(status="draft")[:50])
    chosen = next((d for d in definitions if d.pk == definition_id), None) or definition_published()
    leads = report_leads(request.user)
    stages = _funnel(period, request.user, definition_id)["stages"]
    handoffs = reports.handoff_report(period=period, handoffs=handoff_list(user=request.user))
    criteria = reports.criteria_report(definition=chosen, leads=leads) if chosen else None
    attribution = reports.attribution_report(period=period, leads=leads)
    recycling = reports.recycling_report(period=period, leads=leads)
    revenue = _revenue(attribution)
    team_names = dict(
        Team.objects.filter(pk__in={r["team"] for r in handoffs["teams"]}).values_list("pk", "name")
    )
    user_names = dict(
        get_user_model()
        .objects.filter(pk__in={r["rep"] for r in handoffs["reps"]})
        .values_list("pk", "username")
    )
    chart = {
        "stages": [str(state_label(s["stage"])) for s in stages],
        "first": [s["first"]["entered"] for s in stages],
        "reentry": [s["reentry"]["entered"] for s in stages],
        "conversion": [s["first"]["conversion_rate"] for s in stages],
        "median_days": [s["first"]["median_days"] for s in stages],
        "rejections": {c["code"]: c["rejections"] for c in (criteria or {}).get("criteria", [])},
        "revenue": {
            str(source_label(r["source"])): float(r["amount"]) for r in revenue["by_source"]
        },
    }
    return render(request, "web/dashboard.html", {
        "period": period, "stages": stages, "handoffs": handoffs, "criteria": criteria,
        "recycling": recycling, "revenue": revenue, "chart": chart, "definitions": definitions,
        "definition_id": definition_id, "chosen": chosen, "team_names": team_names,
        "user_names": user_names,
        "versions": _versions(period, request.user),
        "from_value": timezone.localtime(period.start).date().isoformat(),
        "to_value": timezone.localtime(period.end - timedelta(microseconds=1)).date().isoformat(),
        "won_total": sum(
            (Decimal(r["won_amount"]) for r in attribution["first_touch"]), Decimal(0)
        ),
    })  # fmt: skip
