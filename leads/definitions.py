"""Definition documents (SPEC §3): strict validation with a pointer to the bad part, and the
per-criterion evaluation of a lead against a stage's criteria."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from leadflow.choices import Function
from leadflow.errors import FieldError
from leads import writes
from leads.choices import CriterionKind, LeadState, ScoreName

K = CriterionKind


def _criterion_type(name: str) -> str:
    from django.db import models

    from leads.models import Lead

    field = Lead._meta.get_field(name)
    if isinstance(field, models.IntegerField | models.DecimalField | models.FloatField):
        return "number"
    if isinstance(field, models.BooleanField):
        return "bool"
    if isinstance(field, models.DateField):
        return "date"
    return "text"


# Lead fields a criterion may name, by type (from the model); `attributes.<key>` names a free
# attribute.
CRITERIA_FIELDS: dict[str, str] = {
    name: _criterion_type(name)
    for name in ("email", *writes.MARKETING_FIELD_ORDER, *writes.SALES_FIELD_ORDER)
    if name != "attributes"
}
STAGES_WITH_CRITERIA = (LeadState.MQL, LeadState.SQL)
STAGE_KEYS = {"owner", "sla_hours", "criteria", "cooloff_days", "reassign_on_breach"}
CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
MAX_CRITERIA = 50

# kind -> {param: validator-name}; every param is required unless marked optional ("?").
KIND_PARAMS: dict[str, dict[str, str]] = {
    K.SCORE_AT_LEAST: {"score": "score", "value": "number"},
    K.FIELD_IN: {"field": "text_field", "values": "strings"},
    K.FIELD_NOT_IN: {"field": "text_field", "values": "strings"},
    K.FIELDS_PRESENT: {"fields": "fields"},
    K.FIELD_TRUE: {"field": "bool_field"},
    K.FIELD_AT_LEAST: {"field": "number_field", "value": "number"},
    K.DATE_WITHIN: {"field": "date_field", "days": "days", "direction?": "direction"},
    K.ACTIVITY_WITHIN: {"types": "strings", "days": "days", "count?": "count"},
    K.EMAIL_DOMAIN_NOT_IN: {"domains": "strings"},
}
DIRECTIONS = ("future", "past", "either")


def _field_ok(name: Any, types: tuple[str, ...]) -> bool:
    if not isinstance(name, str):
        return False
    if name.startswith("attributes.") and len(name) > len("attributes."):
        return True
    return CRITERIA_FIELDS.get(name) in types


def _check_param(kind_of: str, value: Any) -> str | None:
    """None if `value` is a valid param of type `kind_of`, else the message."""
    is_num = isinstance(value, int | float) and not isinstance(value, bool)
    if kind_of == "score":
        return None if value in ScoreName.values else _("one of %s") % ", ".join(ScoreName.values)
    if kind_of == "number":
        return None if is_num and value >= 0 else _("a number ≥ 0")
    if kind_of in ("days", "count"):
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 36500
        return None if ok else _("a whole number between 1 and 36500")
    if kind_of == "direction":
        return None if value in DIRECTIONS else _("one of %s") % ", ".join(DIRECTIONS)
    if kind_of == "strings":
        ok = (
            isinstance(value, list)
            and 0 < len(value) <= 500
            and all(isinstance(v, str) and 0 < len(v) <= 200 for v in value)
        )
        return None if ok else _("a non-empty list of strings")
    if kind_of == "fields":
        ok = (
            isinstance(value, list)
            and bool(value)
            and all(_field_ok(v, ("text", "number", "bool", "date")) for v in value)
        )
        return None if ok else _("a non-empty list of lead fields")
    types = {
        "text_field": ("text",),
        "bool_field": ("bool",),
        "number_field": ("number",),
        "date_field": ("date",),
    }[kind_of]
    names = {"text": _("text"), "number": _("number"), "bool": _("yes/no"), "date": _("date")}
    return None if _field_ok(value, types) else _("a lead field of type %s") % names[types[0]]


def _validate_criteria(criteria: Any, at: str) -> list[FieldError]:
    if not isinstance(criteria, list):
        return [FieldError(at, _("Must be a list of criteria."), "invalid")]
    if not criteria:
        return [FieldError(at, _("A stage needs at least one criterion."), "required")]
    if len(criteria) > MAX_CRITERIA:
        return [FieldError(at, _("At most %d criteria.") % MAX_CRITERIA, "max_length")]
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, crit in enumerate(criteria):
        here = f"{at}.{i}"
        if not isinstance(crit, dict):
            errs.append(FieldError(here, _("Must be an object."), "invalid"))
            continue
        for extra in set(crit) - {"code", "kind", "params", "label"}:
            errs.append(FieldError(f"{here}.{extra}", _("Unknown key."), "unknown_field"))
        code = crit.get("code")
        if not isinstance(code, str) or not CODE_RE.match(code) or code == "other":
            errs.append(
                FieldError(
                    f"{here}.code", _("A lower-case code (a-z, 0-9, _), not 'other'."), "invalid"
                )
            )
        elif code in seen:
            errs.append(FieldError(f"{here}.code", _("Duplicate code %r.") % code, "unique"))
        else:
            seen.add(code)
        kind = crit.get("kind")
        if kind not in KIND_PARAMS:
            errs.append(FieldError(f"{here}.kind", _("Unknown kind %r.") % kind, "invalid_choice"))
            continue
        params = crit.get("params")
        if not isinstance(params, dict):
            errs.append(FieldError(f"{here}.params", _("Must be an object."), "required"))
            continue
        spec = KIND_PARAMS[kind]
        names = {n.rstrip("?") for n in spec}
        for extra in set(params) - names:
            errs.append(
                FieldError(
                    f"{here}.params.{extra}", _("Unknown parameter for %s.") % kind, "unknown_field"
                )
            )
        for name, kind_of in spec.items():
            optional, name = name.endswith("?"), name.rstrip("?")
            if name not in params:
                if not optional:
                    errs.append(
                        FieldError(
                            f"{here}.params.{name}", _("This parameter is required."), "required"
                        )
                    )
                continue
            problem = _check_param(kind_of, params[name])
            if problem:
                errs.append(
                    FieldError(f"{here}.params.{name}", _("Must be %s.") % problem, "invalid")
                )
    return errs


def validate_document(doc: Any) -> list[FieldError]:
    """Every problem of a definition document, each with a dotted pointer into it."""
    if not isinstance(doc, dict):
        return [FieldError("stages", _("Must be an object of stages."), "invalid")]
    stages = doc.get("stages")
    if not isinstance(stages, dict):
        return [FieldError("stages", _("Must be an object of stages."), "required")]
    errs: list[FieldError] = []
    for name, stage in stages.items():
        at = f"stages.{name}"
        if name not in LeadState.values:
            errs.append(FieldError(at, _("Unknown stage %r.") % name, "unknown_field"))
            continue
        if not isinstance(stage, dict):
            errs.append(FieldError(at, _("Must be an object."), "invalid"))
            continue
        for extra in set(stage) - STAGE_KEYS:
            errs.append(FieldError(f"{at}.{extra}", _("Unknown key."), "unknown_field"))
        if stage.get("owner") not in Function.values:
            errs.append(
                FieldError(f"{at}.owner", _("Must be 'marketing' or 'sales'."), "invalid_choice")
            )
        if "sla_hours" in stage:
            sla = stage["sla_hours"]
            if isinstance(sla, bool) or not isinstance(sla, int | float) or not 0 < sla <= 8760:
                errs.append(
                    FieldError(f"{at}.sla_hours", _("Must be a number of hours > 0."), "invalid")
                )
        if "cooloff_days" in stage:
            days = stage["cooloff_days"]
            if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 3650:
                errs.append(
                    FieldError(f"{at}.cooloff_days", _("Must be whole days ≥ 0."), "invalid")
                )
        if "reassign_on_breach" in stage and not isinstance(stage["reassign_on_breach"], bool):
            errs.append(
                FieldError(f"{at}.reassign_on_breach", _("Must be true or false."), "invalid")
            )
        if name in STAGES_WITH_CRITERIA:
            errs.extend(_validate_criteria(stage.get("criteria"), f"{at}.criteria"))
        elif "criteria" in stage:
            errs.append(
                FieldError(f"{at}.criteria", _("Only mql and sql have criteria."), "invalid")
            )
    for required in STAGES_WITH_CRITERIA:
        if required not in stages:
            errs.append(FieldError(f"stages.{required}", _("This stage is required."), "required"))
    return errs


# --- evaluation -------------------------------------------------------------------------------

ActivityCounter = Callable[[list[str], datetime], int]


def _norm(value: Any) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip().casefold()


def _field_value(lead: Any, name: str) -> Any:
    if name.startswith("attributes."):
        return (lead.attributes or {}).get(name.split(".", 1)[1])
    return getattr(lead, name)


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def evaluate_criterion(
    lead: Any, crit: dict[str, Any], *, now: datetime, activity: ActivityCounter
) -> dict[str, Any]:
    """One criterion against one lead: `{code, kind, passed, observed, expected}`."""
    kind, p = crit["kind"], crit["params"]
    observed: Any
    expected: Any
    if kind == K.SCORE_AT_LEAST:
        scores = {"fit": lead.fit_score, "engagement": lead.engagement_score}
        scores["total"] = Decimal(lead.fit_score) + Decimal(lead.engagement_score)
        observed = Decimal(scores[p["score"]])
        passed, expected = observed >= Decimal(str(p["value"])), f"{p['score']} ≥ {p['value']}"
    elif kind in (K.FIELD_IN, K.FIELD_NOT_IN):
        observed = _field_value(lead, p["field"])
        inside = _present(observed) and _norm(observed) in {_norm(v) for v in p["values"]}
        passed = inside if kind == K.FIELD_IN else (_present(observed) and not inside)
        expected = {"field": p["field"], "in" if kind == K.FIELD_IN else "not_in": p["values"]}
    elif kind == K.FIELDS_PRESENT:
        missing = [f for f in p["fields"] if not _present(_field_value(lead, f))]
        observed = {"missing": missing}
        passed, expected = not missing, {"present": p["fields"]}
    elif kind == K.FIELD_TRUE:
        observed = _field_value(lead, p["field"])
        passed, expected = observed is True, {"field": p["field"], "equals": True}
    elif kind == K.FIELD_AT_LEAST:
        observed = _number(_field_value(lead, p["field"]))
        passed = observed is not None and observed >= Decimal(str(p["value"]))
        expected = f"{p['field']} ≥ {p['value']}"
    elif kind == K.DATE_WITHIN:
        observed = _date(_field_value(lead, p["field"]))
        direction = p.get("direction", "future")
        delta = (observed - now.date()).days if observed else None
        passed = delta is not None and (
            (direction == "future" and 0 <= delta <= p["days"])
            or (direction == "past" and -p["days"] <= delta <= 0)
            or (direction == "either" and abs(delta) <= p["days"])
        )
        expected = {"field": p["field"], "within_days": p["days"], "direction": direction}
    elif kind == K.ACTIVITY_WITHIN:
        observed = activity(list(p["types"]), now - timedelta(days=p["days"]))
        needed = p.get("count", 1)
        passed = observed >= needed
        expected = {"types": p["types"], "days": p["days"], "at_least": needed}
    elif kind == K.EMAIL_DOMAIN_NOT_IN:
        observed = lead.email.rsplit("@", 1)[-1] if lead.email else ""
        passed = bool(observed) and observed not in {_norm(d) for d in p["domains"]}
        expected = {"domain_not_in": p["domains"]}
    else:  # pragma: no cover - validation refuses unknown kinds
        raise ValueError(kind)
    return {
        "code": crit["code"],
        "kind": kind,
        "passed": bool(passed),
        "observed": _json(observed),
        "expected": expected,
    }


def evaluate_stage(
    lead: Any, document: dict[str, Any], stage: str, *, now: datetime, activity: ActivityCounter
) -> list[dict[str, Any]]:
    criteria = (document.get("stages", {}).get(stage) or {}).get("criteria", [])
    return [evaluate_criterion(lead, c, now=now, activity=activity) for c in criteria]


def criteria_q(criteria: list[dict[str, Any]], *, now: datetime) -> Any:
    """The criteria as one ORM filter: the set-based pre-selection of leads that may pass.
    The Python evaluation stays the authority (and is what history records), so the filter is
    never narrower than it: a text value is compared after NFKC, trimming and case-folding,
    which SQL cannot do alike on every database, so a `field_in` selects every lead with a value
    and the evaluation decides. A lead that "why (not) MQL" says passes is always a candidate
    (`tests/leads/test_criteria_semantics.py`)."""
    from django.db.models import Exists, OuterRef, Q

    from leads.models import Event

    q: Any = Q()
    for crit in criteria:
        kind, p = crit["kind"], crit["params"]
        if kind == K.SCORE_AT_LEAST:
            column = {"fit": "scores__fit", "engagement": "scores__engagement"}.get(
                p["score"], "scores__total"
            )
            q &= Q(**{f"{column}__gte": p["value"]})
        elif kind == K.ACTIVITY_WITHIN:
            since = now - timedelta(days=p["days"])
            recent = Event.objects.filter(
                lead=OuterRef("pk"), type__in=p["types"], occurred_at__gte=since
            )
            if p.get("count", 1) <= 1:
                q &= Q(Exists(recent))
        elif p.get("field", "").startswith("attributes.") or any(
            f.startswith("attributes.") for f in p.get("fields", [])
        ):
            continue  # free attributes are left to the Python evaluation
        elif kind == K.FIELD_IN:
            q &= ~Q(**{p["field"]: ""})
        elif kind == K.FIELDS_PRESENT:
            for name in p["fields"]:
                q &= (
                    ~Q(**{name: ""})
                    if CRITERIA_FIELDS[name] == "text"
                    else Q(**{f"{name}__isnull": False})
                )
        elif kind == K.FIELD_TRUE:
            q &= Q(**{p["field"]: True})
        elif kind == K.FIELD_AT_LEAST:
            q &= Q(**{f"{p['field']}__gte": p["value"]})
    return q
