"""The definition editor (COO): drafts edited with validation messages at the field they concern,
a backtest with its progress and result beside the published version, publish with confirmation.
Other roles read the definitions."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from analytics.backtest import backtest_start
from analytics.periods import period_from
from leadflow.choices import Function
from leadflow.errors import LeadflowError, ValidationFailed
from leadflow.filters import as_id
from leadflow.permissions import user_of
from leads.access import Can, may
from leads.choices import CriterionKind, DefinitionStatus, ScoreName
from leads.definitions import KIND_PARAMS
from leads.selectors import definition_get, definition_list, definition_published
from leads.services.definitions import definition_create, definition_publish, definition_update
from web.criteria import KIND_LABELS, SCORE_LABELS
from web.roles import requires
from web.views.base import flash_error, object_errors

# The inside-sales stages (tal, tql) are optional and come together (SPEC §13).
STAGES = ["lead", "mql", "tal", "tql", "sal", "sql", "recycled", "lost"]
WITH_SLA = {"mql", "tal", "tql", "sal"}
WITH_COOLOFF = {"recycled", "lost"}
WITH_CRITERIA = {"mql", "tql", "sql"}


@require_GET
@requires(Can.READ)
def definition_list_view(request: HttpRequest) -> HttpResponse:
    return render(request, "web/definition_list.html", {
        "definitions": definition_list()[:100], "may_edit": may(request.user, Can.DEFINE),
    })  # fmt: skip


@require_POST
@requires(Can.DEFINE)
def definition_new(request: HttpRequest) -> HttpResponse:
    """A new draft: a copy of the published definition (or of the one named)."""
    raw = request.POST.get("from", "")
    source_id = as_id(raw)
    source = definition_get(definition_id=source_id) if source_id else definition_published()
    if source is None:
        from leads.management.commands.seed_demo import DEMO_DEFINITION

        document: dict[str, Any] = json.loads(json.dumps(DEMO_DEFINITION))
        name = _("New definition")
    else:
        document, name = source.document, _("Copy of %s") % source.name
    if change := request.POST.get("change", ""):
        # The advisor's "make a draft from this": the copy with that one change (SPEC §14).
        from analytics.advisor import apply_suggestion

        code, value = request.POST.get("code", ""), request.POST.get("value", "")
        try:
            changed = apply_suggestion(document, change=change, code=code, value=value)
        except ValueError:
            changed = None
        if changed is None:
            messages.error(request, _("That suggestion no longer fits the definition."))
            return redirect("web:advisor")
        document = changed
        name = _("%(name)s, advised: %(what)s") % {
            "name": name,
            "what": _describe(change, code, value),
        }
    try:
        draft = definition_create(name=name[:200], document=document, actor=user_of(request))
    except ValidationFailed as exc:  # a suggestion that leaves the definition incomplete
        flash_error(request, exc)
        return redirect("web:advisor")
    messages.success(request, _("Draft v%d created.") % draft.pk)
    return redirect("web:definition-edit", definition_id=draft.pk)


def _describe(change: str, code: str, value: str) -> str:
    if change == "threshold":
        return _("%(code)s at %(value)s") % {"code": code, "value": value}
    if change == "remove":
        return _("without %s") % code
    if change == "add":
        return _("%(value)s added to %(code)s") % {"code": code, "value": value}
    return _("%(value)s dropped from %(code)s") % {"code": code, "value": value}


def _stage_rows(document: dict[str, Any], errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    """The editor's rows per stage, from the document (or from what was just posted), each
    input with the errors that point at it."""
    stages = document.get("stages", {})
    rows = []
    for name in STAGES:
        stage = stages.get(name) or {}
        at = f"stages.{name}"
        criteria = []
        for i, c in enumerate(stage.get("criteria") or []):
            criteria.append(_criterion_row(f"{at}.criteria.{i}", c, errors))
        rows.append({
            "name": name, "present": name in stages, "owner": stage.get("owner", ""),
            "sla_hours": stage.get("sla_hours", ""), "cooloff_days": stage.get("cooloff_days", ""),
            "reassign_on_breach": bool(stage.get("reassign_on_breach")),
            "has_sla": name in WITH_SLA, "has_cooloff": name in WITH_COOLOFF,
            "has_criteria": name in WITH_CRITERIA, "criteria": criteria,
            "errors": {k: errors.get(f"{at}.{k}", [])
                       for k in ("owner", "sla_hours", "cooloff_days", "criteria")},
            "new_row": _criterion_row(f"{at}.criteria.__i__", {
                "code": "", "kind": CriterionKind.SCORE_AT_LEAST,
                "params": {"score": "engagement", "value": 20}}, {}),
            "stage_errors": errors.get(at, []),
        })  # fmt: skip
    return rows


# Each parameter's input: (name, widget). Widgets: a number, whole days or times, a choice, a
# list typed as text (comma, 、 or one per line), a choice of lead fields (of a type), or many.
PARAM_INPUTS: dict[str, str] = {
    "field": "field", "fields": "fields", "score": "score", "value": "number",
    "values": "list", "types": "list", "domains": "list", "days": "whole", "count": "whole",
    "direction": "direction",
}  # fmt: skip
FIELD_TYPES = {
    "field_in": "text", "field_not_in": "text", "field_true": "bool", "field_at_least": "number",
    "date_within": "date",
}  # fmt: skip


def _param_list(value: Any) -> str:
    return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value or "")


def _criterion_row(base: str, c: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    """One criterion of the builder: its code and kind, and an input per parameter of every
    kind (the page shows those of the chosen kind), each with the errors that point at it."""
    raw = c.get("params")
    params: dict[str, Any] = raw if isinstance(raw, dict) else {}
    values: dict[str, Any] = {name: _param_list(params.get(name, "")) for name in PARAM_INPUTS}
    values["fields"] = params.get("fields") if isinstance(params.get("fields"), list) else []
    kinds_of = {
        name: " ".join(k for k, spec in KIND_PARAMS.items()
                       if name in {p.rstrip("?") for p in spec})
        for name in PARAM_INPUTS
    }  # fmt: skip
    return {
        "base": base, "code": c.get("code", ""), "kind": c.get("kind", ""),
        "label": c.get("label", ""),
        "params": [
            {"name": name, "widget": widget, "value": values[name], "kinds": kinds_of[name],
             "errors": errors.get(f"{base}.params.{name}", []),
             "optional": all(name + "?" in spec for spec in KIND_PARAMS.values()
                             if name in {p.rstrip("?") for p in spec})}
            for name, widget in PARAM_INPUTS.items()
        ],
        "errors": {k: errors.get(f"{base}.{k}", []) for k in ("code", "kind", "params")},
        "row_errors": errors.get(base, []),
    }  # fmt: skip


def _number(raw: str, whole: bool) -> Any:
    """A posted number as the document holds it; what does not parse stays text, so that the
    document's validation reports it at its field."""
    raw = raw.strip()
    try:
        value = float(raw)
    except ValueError:
        return raw
    return int(value) if whole or value.is_integer() else value


def _document_from_post(post: Any) -> dict[str, Any]:
    """The posted editor fields as a definition document."""
    stages: dict[str, Any] = {}
    for name in STAGES:
        prefix = f"stages.{name}"
        if not post.get(f"{prefix}.owner"):
            continue
        stage: dict[str, Any] = {"owner": post.get(f"{prefix}.owner")}
        if name in WITH_SLA and post.get(f"{prefix}.sla_hours", "").strip():
            stage["sla_hours"] = _number(post[f"{prefix}.sla_hours"], whole=False)
        if name in WITH_COOLOFF and post.get(f"{prefix}.cooloff_days", "").strip():
            stage["cooloff_days"] = _number(post[f"{prefix}.cooloff_days"], whole=True)
        if name == "mql" and post.get(f"{prefix}.reassign_on_breach"):
            stage["reassign_on_breach"] = True
        if name in WITH_CRITERIA:
            stage["criteria"] = _criteria_from_post(post, prefix)
        stages[name] = stage
    return {"stages": stages}


def form_from_document(document: dict[str, Any], name: str) -> dict[str, Any]:
    """The editor's inputs for `document` as the page posts them unchanged (one input per
    parameter, lists as typed text, several fields as a multiple choice): the inverse of
    `_document_from_post`, for the clients that post the form (the benchmark, the tests)."""
    data: dict[str, Any] = {"name": name}
    for stage_name, stage in document["stages"].items():
        data[f"stages.{stage_name}.owner"] = stage["owner"]
        for key in ("sla_hours", "cooloff_days"):
            if key in stage:
                data[f"stages.{stage_name}.{key}"] = str(stage[key])
        if stage.get("reassign_on_breach"):
            data[f"stages.{stage_name}.reassign_on_breach"] = "on"
        for i, c in enumerate(stage.get("criteria", [])):
            at = f"stages.{stage_name}.criteria.{i}"
            data[f"{at}.code"], data[f"{at}.kind"] = c["code"], c["kind"]
            if c.get("label"):
                data[f"{at}.label"] = c["label"]
            for param, value in c["params"].items():
                if param == "fields":
                    data[f"{at}.params.{param}"] = value
                else:
                    data[f"{at}.params.{param}"] = (
                        ", ".join(value) if isinstance(value, list) else str(value)
                    )
    return data


def _split(raw: str) -> list[str]:
    import re

    return [p.strip() for p in re.split(r"[,\n、]", raw) if p.strip()]


def _params_from_post(post: Any, at: str, kind: str) -> dict[str, Any]:
    """The parameters of `kind` from the builder's inputs; what does not parse stays as typed,
    so that the validation names it at its input."""
    params: dict[str, Any] = {}
    for spec in KIND_PARAMS.get(kind, {}):
        name, optional = spec.rstrip("?"), spec.endswith("?")
        widget = PARAM_INPUTS[name]
        if widget == "fields":
            params[name] = [v for v in post.getlist(f"{at}.params.{name}") if v]
            continue
        raw = post.get(f"{at}.params.{name}", "").strip()
        if not raw and optional:
            continue
        if widget == "list":
            params[name] = _split(raw)
        elif widget in ("number", "whole"):
            params[name] = _number(raw, whole=widget == "whole") if raw else raw
        else:
            params[name] = raw
    return params


def _criteria_from_post(post: Any, prefix: str) -> list[Any]:
    indexes = sorted(
        {int(k.split(".")[3]) for k in post if k.startswith(f"{prefix}.criteria.")
         and k.split(".")[3].isascii() and k.split(".")[3].isdigit()}
    )  # fmt: skip
    criteria = []
    for i in indexes:
        at = f"{prefix}.criteria.{i}"
        kind = post.get(f"{at}.kind", "")
        crit: dict[str, Any] = {
            "code": post.get(f"{at}.code", "").strip(), "kind": kind,
            "params": _params_from_post(post, at, kind),
        }  # fmt: skip
        if post.get(f"{at}.label", "").strip():
            crit["label"] = post.get(f"{at}.label", "").strip()[:200]
        criteria.append(crit)
    return criteria


def _at_fields(exc: ValidationFailed, inputs: set[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Each error at the input its pointer falls under (the longest prefix), else general."""
    at: dict[str, list[str]] = {}
    general: list[str] = []
    for e in exc.errors:
        pointer = e.field.removeprefix("document.")
        owner = max((i for i in inputs if pointer == i or pointer.startswith(i + ".")),
                    key=len, default=None)  # fmt: skip
        if owner is None:
            general.append(f"{pointer}: {e.message}")
        else:
            rest = pointer[len(owner) + 1 :]
            at.setdefault(owner, []).append(f"{rest}: {e.message}" if rest else e.message)
    return at, general


def _inputs(document: dict[str, Any]) -> set[str]:
    names = {"name"}
    for stage, body in document.get("stages", {}).items():
        names |= {f"stages.{stage}", f"stages.{stage}.owner", f"stages.{stage}.sla_hours",
                  f"stages.{stage}.cooloff_days", f"stages.{stage}.criteria"}  # fmt: skip
        for i, _c in enumerate(body.get("criteria") or []):
            at = f"stages.{stage}.criteria.{i}"
            names |= {f"{at}.{k}" for k in ("code", "kind", "params", "label")}
            names |= {f"{at}.params.{p}" for p in PARAM_INPUTS}
    return names


def _field_choices() -> dict[str, list[tuple[str, str]]]:
    """Lead fields by type, labelled, for the builder's field inputs."""
    from leads.definitions import CRITERIA_FIELDS
    from web.labels import FIELD_LABELS

    out: dict[str, list[tuple[str, str]]] = {"text": [], "number": [], "bool": [], "date": [],
                                             "any": []}  # fmt: skip
    for name, kind in CRITERIA_FIELDS.items():
        label = str(FIELD_LABELS.get(name, name))
        out[kind].append((name, label))
        out["any"].append((name, label))
    return out


@require_http_methods(["GET", "POST"])
@requires(Can.READ)
@object_errors
def definition_edit(request: HttpRequest, definition_id: int) -> HttpResponse:
    d = definition_get(definition_id=definition_id)
    editable = d.status == DefinitionStatus.DRAFT and may(request.user, Can.DEFINE)
    document, status = d.document, 200
    general: list[str] = []
    errors: dict[str, list[str]] = {}
    name = d.name
    if request.method == "POST":
        if not editable:
            messages.error(request, _("Only drafts can be edited, by the COO."))
            return redirect("web:definition-edit", definition_id=d.pk)
        document = _document_from_post(request.POST)
        name = request.POST.get("name", "").strip()
        try:
            if not name:  # reported with every problem of the document, all at once
                from leadflow.errors import FieldError
                from leads.definitions import validate_document

                problems = [FieldError("name", _("A name is required."), "required")]
                raise ValidationFailed(problems + validate_document(document))
            definition_update(definition_id=d.pk, name=name, document=document)
        except ValidationFailed as exc:
            errors, general = _at_fields(exc, _inputs(document))
            status = 400
            messages.error(request, _("The draft was not saved; see the marked fields."))
        except LeadflowError as exc:
            flash_error(request, exc)
            return redirect("web:definition-edit", definition_id=d.pk)
        else:
            messages.success(request, _("Draft saved."))
            return redirect("web:definition-edit", definition_id=d.pk)
    job = None
    raw_job = request.GET.get("job", "")
    if (job_id := as_id(raw_job)) is not None:
        # One permission for a job, as the API's /jobs/{id}/: its starter's, or the COO's.
        from leadflow.errors import NotFound
        from leadflow.jobs import job_get

        try:
            found = job_get(job_id=job_id, user=user_of(request))
        except NotFound:
            found = None
        if found and found.kind == "backtest" and found.params.get("definition") == d.pk:
            job = found
    return render(request, "web/definition_edit.html", {
        "definition": d, "name": name, "editable": editable,
        "stages": _stage_rows(document, errors),
        "errors": errors, "general_errors": general, "functions": Function.choices,
        "kinds": [(k, KIND_LABELS[CriterionKind(k)]) for k in CriterionKind.values], "job": job,
        "field_choices": _field_choices(),
        "scores": [(k, SCORE_LABELS[ScoreName(k)]) for k in ("engagement", "fit", "total")],
        "directions": [("future", _("in the future")), ("past", _("in the past")),
                       ("either", _("either side of today"))],
        "published": definition_published(), "may_backtest": may(request.user, Can.DEFINE),
        "percent": round(job.progress * 100) if job else 0,
    }, status=status)  # fmt: skip


@require_POST
@requires(Can.DEFINE)
@object_errors
def definition_backtest(request: HttpRequest, definition_id: int) -> HttpResponse:
    """Start a backtest of this definition as a job; the editor shows its progress."""
    d = definition_get(definition_id=definition_id)
    try:
        period = period_from(
            {k: request.POST.get(k) for k in ("from", "to") if request.POST.get(k)},
            default_days=365,
        )
    except ValidationFailed as exc:
        flash_error(request, exc)
        return redirect("web:definition-edit", definition_id=d.pk)
    job = backtest_start(definition=d, period=period, actor=user_of(request))
    return redirect(f"/definitions/{d.pk}/?job={job.pk}#backtest")


# The what-if's period: the last 90 days, the span the dashboard looks at by default.
WHAT_IF_DAYS = 90


@require_POST
@requires(Can.DEFINE)
@object_errors
def definition_what_if(request: HttpRequest, definition_id: int) -> HttpResponse:
    """The editor's live what-if (SPEC §14): the form as it is now, unsaved, replayed against
    the last 90 days beside what the published versions did. The editor posts it, debounced, on
    every change; nothing is saved."""
    from analytics.backtest import backtest
    from leads.definitions import validate_document
    from leads.models import Definition

    d = definition_get(definition_id=definition_id)
    document = _document_from_post(request.POST)
    problems = validate_document(document)
    context: dict[str, Any] = {"definition": d, "problems": len(problems)}
    if not problems:
        draft = Definition(pk=d.pk, name=d.name, document=document)
        period = period_from({}, default_days=WHAT_IF_DAYS)
        result = backtest(definition=draft, period=period)
        context["first_day"] = timezone.localtime(period.start).date().isoformat()
        context["last_day"] = (
            timezone.localtime(period.end - timedelta(microseconds=1)).date().isoformat()
        )
        mine, real = result["draft"], result["published"]
        rows = [("mqls", _("MQLs")), ("sqls", _("reached SQL")), ("won", _("won"))]
        if draft.has_inside_sales or real["tqls"]:
            rows.insert(1, ("tqls", _("reached TQL")))
        context.update(result=result, rows=[
            {"key": key, "label": label, "draft": mine[key], "published": real[key],
             "change": mine[key] - real[key]}
            for key, label in rows
        ])  # fmt: skip
    return render(request, "web/partials/what_if.html", context)


@require_http_methods(["GET", "POST"])
@requires(Can.DEFINE)
@object_errors
def definition_publish_view(request: HttpRequest, definition_id: int) -> HttpResponse:
    """GET asks for confirmation; POST publishes (the published version is retired)."""
    d = definition_get(definition_id=definition_id)
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            messages.error(request, _("Tick the confirmation to publish."))
            return redirect("web:definition-publish", definition_id=d.pk)
        try:
            definition_publish(definition_id=d.pk)
        except LeadflowError as exc:
            flash_error(request, exc)
            return redirect("web:definition-edit", definition_id=d.pk)
        messages.success(request, _("v%d is published. New evaluations use it from now on.") % d.pk)
        return redirect("web:definition-edit", definition_id=d.pk)
    return render(request, "web/definition_publish.html", {
        "definition": d, "published": definition_published(),
    })  # fmt: skip
