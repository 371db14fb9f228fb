"""Marketing's settings pages: scoring rules, webhooks and web forms. Each write goes through
the same serializer and service as the REST API."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from handoff.choices import WebhookEvent
from handoff.models import WebhookSubscription
from handoff.selectors import delivery_list, subscription_get
from handoff.serializers import WebhookSubscriptionSerializer
from handoff.services import subscription_delete, subscription_save
from integrations.models import WebForm
from integrations.services.webforms import (
    FORM_FIELDS,
    WebFormInput,
    webform_create,
    webform_snippet,
)
from integrations.services.webforms import webform_update as webform_save_existing
from leadflow.errors import LeadflowError, ValidationFailed
from leadflow.permissions import user_of
from leadflow.problems import validation_failed
from leads.access import Can, may
from leads.choices import Source
from leads.definitions import CRITERIA_FIELDS
from scoring import selectors as scoring_selectors
from scoring import services as scoring_services
from scoring.choices import FitOp, PropertyOp, RuleKind
from scoring.serializers import ScoringRuleSerializer
from web.labels import FIELD_LABELS
from web.roles import requires
from web.views.base import field_errors, flash_error, object_errors

RULE_FIELDS = ["kind", "name", "points", "event_type", "property_key", "property_op",
               "property_value", "half_life_days", "cap", "field", "operator"]  # fmt: skip


# --- scoring rules ---------------------------------------------------------------------------


@require_GET
@requires(Can.READ)
def rule_list(request: HttpRequest) -> HttpResponse:
    """The rules; after a change, the recompute it started, with its progress and result."""
    from leadflow.errors import NotFound
    from leadflow.filters import as_id
    from leadflow.jobs import job_get

    rules = list(scoring_selectors.rule_list())
    job = None
    if (job_id := as_id(request.GET.get("job", ""))) is not None:
        try:
            job = job_get(job_id=job_id, user=user_of(request))
        except NotFound:
            job = None
    return render(request, "web/scoring_rules.html", {
        "fit": [r for r in rules if r.kind == RuleKind.FIT],
        "engagement": [r for r in rules if r.kind == RuleKind.ENGAGEMENT],
        "may_edit": may(request.user, Can.EDIT_RULES),
        "job": job if job and job.kind == "score_recompute" else None,
        "percent": round(job.progress * 100) if job else 0,
    })  # fmt: skip


def _recompute_started(request: HttpRequest) -> HttpResponse:
    """Back to the rules, following the recompute the change just started."""
    from leadflow.models import Job

    job = Job.objects.filter(kind="score_recompute", created_by_id=request.user.pk).order_by("-id")
    latest = job.values_list("pk", flat=True).first()
    target = reverse("web:scoring-rules")
    return redirect(f"{target}?job={latest}#recompute" if latest else target)


def _values(raw: str, field: str, operator: str) -> list[Any]:
    """The comma- or line-separated values of a fit rule; numbers where the field is a number."""
    parts = [p.strip() for p in re.split(r"[,\n、]", raw)] if raw.strip() else []
    numeric = CRITERIA_FIELDS.get(field) == "number" or operator == FitOp.BETWEEN
    out: list[Any] = []
    for p in parts:
        if operator == FitOp.BETWEEN and p == "":
            out.append(None)
        elif numeric:
            try:
                out.append(int(p) if re.fullmatch(r"-?\d+", p) else float(p))
            except ValueError:
                out.append(p)
        elif p:
            out.append(p)
    return out


def _rule_data(post: Any) -> dict[str, Any]:
    data: dict[str, Any] = {k: post.get(k, "").strip() for k in RULE_FIELDS if k in post}
    data["is_active"] = post.get("is_active") == "on"
    for name in ("half_life_days", "cap"):
        if name in data and not data[name]:
            data[name] = None
    if data.get("kind") == RuleKind.FIT:
        data["values"] = _values(post.get("values", ""), data.get("field", ""),
                                 data.get("operator", ""))  # fmt: skip
        for name in ("event_type", "property_key", "property_op", "property_value"):
            data.pop(name, None)
        data.pop("half_life_days", None)
        data.pop("cap", None)
    else:
        for name in ("field", "operator"):
            data.pop(name, None)
    return data


@require_http_methods(["GET", "POST"])
@requires(Can.EDIT_RULES)
@object_errors
def rule_edit(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    rule = scoring_selectors.rule_get(rule_id=rule_id) if rule_id else None
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        s = ScoringRuleSerializer(
            rule, data=_rule_data(request.POST), partial=rule is not None,
            context={"form_input": True},
        )  # fmt: skip
        if s.is_valid():
            if rule is None:
                scoring_services.rule_create(actor=user_of(request), **s.validated_data)
            else:
                scoring_services.rule_update(
                    rule_id=rule.pk, actor=user_of(request), **s.validated_data
                )
            messages.success(request, _("Rule saved."))
            return _recompute_started(request)
        errors = field_errors(validation_failed(s.errors))
    kind = request.GET.get("kind") if rule is None else rule.kind
    return render(request, "web/scoring_rule_form.html", {
        "rule": rule, "kind": kind if kind in RuleKind.values else RuleKind.ENGAGEMENT,
        "values": request.POST if request.method == "POST" else None, "errors": errors,
        "property_ops": PropertyOp.choices, "fit_ops": FitOp.choices,
        "fields": sorted(CRITERIA_FIELDS), "kinds": RuleKind.choices,
    }, status=400 if errors else 200)  # fmt: skip


@require_POST
@requires(Can.EDIT_RULES)
@object_errors
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    scoring_selectors.rule_get(rule_id=rule_id)
    scoring_services.rule_delete(rule_id=rule_id, actor=user_of(request))
    messages.success(request, _("Rule deleted."))
    return _recompute_started(request)


@require_POST
@requires(Can.EDIT_RULES)
def score_recompute(request: HttpRequest) -> HttpResponse:
    job = scoring_services.score_recompute_enqueue(actor=user_of(request), reason="requested")
    return render(request, "web/partials/job_progress.html", {"job": job, "percent": 0})


# --- webhooks --------------------------------------------------------------------------------


@require_GET
@requires(Can.MANAGE_INTAKE)
def webhook_list(request: HttpRequest) -> HttpResponse:
    subs = WebhookSubscription.objects.order_by("name", "id")
    return render(request, "web/webhooks.html", {"subscriptions": subs})


@require_http_methods(["GET", "POST"])
@requires(Can.MANAGE_INTAKE)
@object_errors
def webhook_edit(request: HttpRequest, subscription_id: int | None = None) -> HttpResponse:
    sub = subscription_get(subscription_id=subscription_id) if subscription_id else None
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data: dict[str, Any] = {
            "name": request.POST.get("name", "").strip(),
            "url": request.POST.get("url", "").strip(),
            "event_types": request.POST.getlist("event_types"),
            "is_active": request.POST.get("is_active") == "on",
        }  # fmt: skip
        if request.POST.get("secret") or sub is None:
            data["secret"] = request.POST.get("secret", "")
        s = WebhookSubscriptionSerializer(
            sub, data=data, partial=sub is not None, context={"form_input": True}
        )
        if s.is_valid():
            subscription_save(
                subscription_id=sub.pk if sub else None, actor=user_of(request), **s.validated_data
            )
            messages.success(request, _("Webhook saved."))
            return redirect("web:webhook-list")
        errors = field_errors(validation_failed(s.errors))
    deliveries = list(delivery_list(subscription=sub)[:50]) if sub else []
    return render(request, "web/webhook_form.html", {
        "sub": sub, "errors": errors, "values": request.POST if request.method == "POST" else None,
        "event_choices": [("*", _("every event")), *WebhookEvent.choices],
        "deliveries": deliveries, "posted_events": request.POST.getlist("event_types"),
    }, status=400 if errors else 200)  # fmt: skip


@require_POST
@requires(Can.MANAGE_INTAKE)
@object_errors
def webhook_delete(request: HttpRequest, subscription_id: int) -> HttpResponse:
    subscription_delete(subscription=subscription_get(subscription_id=subscription_id))
    messages.success(request, _("Webhook deleted."))
    return redirect("web:webhook-list")


# --- web forms -------------------------------------------------------------------------------


@require_GET
@requires(Can.MANAGE_INTAKE)
def webform_list(request: HttpRequest) -> HttpResponse:
    return render(request, "web/webforms.html", {"forms": WebForm.objects.all()})


def _webform_input(post: Any) -> WebFormInput:
    return WebFormInput(
        name=post.get("name", ""), fields=post.getlist("fields"), required=post.getlist("required"),
        allowed_origins=[o for o in re.split(r"[\s,]+", post.get("allowed_origins", "")) if o],
        thank_you_url=post.get("thank_you_url", "").strip(),
        source=post.get("source", Source.WEB_FORM), campaign=post.get("campaign", ""),
        is_active=post.get("is_active") == "on",
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
@requires(Can.MANAGE_INTAKE)
def webform_edit(request: HttpRequest, form_id: int | None = None) -> HttpResponse:
    form = get_object_or_404(WebForm, pk=form_id) if form_id else None
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data = _webform_input(request.POST)
        try:
            if form is None:
                form = webform_create(data=data, actor=user_of(request))
            else:
                form = webform_save_existing(form_id=form.pk, data=data)
        except ValidationFailed as exc:
            errors = field_errors(exc)
        except LeadflowError as exc:
            flash_error(request, exc)
        else:
            messages.success(request, _("Form saved. Paste the snippet on your site."))
            return redirect("web:webform-edit", form_id=form.pk)
    snippet = None
    if form is not None and form.pk:
        labels = {name: str(FIELD_LABELS.get(name, name)) for name in FORM_FIELDS}
        labels["_submit"] = _("Send")
        action = request.build_absolute_uri(reverse("public-form", args=[form.public_key]))
        snippet = webform_snippet(form, action=action, labels=labels)
    submissions = list(form.submissions.select_related("lead")[:50]) if form and form.pk else []
    return render(request, "web/webform_form.html", {
        "form": form, "errors": errors,
        "values": request.POST if request.method == "POST" else None,
        "form_fields": [(f, FIELD_LABELS.get(f, f)) for f in FORM_FIELDS],
        "sources": Source.choices, "snippet": snippet, "submissions": submissions,
        "posted_fields": request.POST.getlist("fields"),
        "posted_required": request.POST.getlist("required"),
    }, status=400 if errors else 200)  # fmt: skip
