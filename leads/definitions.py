"""Definition documents (SPEC §3): their JSON Schema, validation against it with a pointer to the
bad part, and the per-criterion evaluation of a lead against a stage's criteria."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from jsonschema import Draft202012Validator, ValidationError

from leadflow.choices import Function
from leadflow.errors import FieldError
from leads import access
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
    for name in ("email", *access.MARKETING_FIELD_ORDER, *access.SALES_FIELD_ORDER)
    if name != "attributes"
}
STAGES_WITH_CRITERIA = (LeadState.MQL, LeadState.SQL)  # required in every definition
CRITERIA_STAGES = (LeadState.MQL, LeadState.TQL, LeadState.SQL)  # stages a criterion gates
INSIDE_SALES_STAGES = (LeadState.TAL, LeadState.TQL)  # optional, together (SPEC §13)
# With the inside-sales stages, who owns what.
INSIDE_SALES_OWNERS = {
    LeadState.MQL: Function.INSIDE_SALES,
    LeadState.TAL: Function.INSIDE_SALES,
    LeadState.TQL: Function.SALES,
}
CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
MAX_CRITERIA = 50

# kind -> {param: its type}; every param is required unless marked optional ("?").
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
    K.PROBABILITY_AT_LEAST: {"value": "probability"},
}
DIRECTIONS = ("future", "past", "either")


# --- the document's schema ----------------------------------------------------------------------
#
# One JSON Schema (2020-12) says what a definition document is: `validate_document` checks a
# document against it (jsonschema gives each problem's place) and `GET /api/v1/definitions/schema/`
# publishes it. Beside the standard keywords, a part may carry `x-message` (what to tell the user
# when that part is wrong), `x-unknown` (a key that is not one of its properties) and `x-code`
# (the error code); `published_schema()` leaves them out. Only the uniqueness of criterion codes
# is checked outside the schema (JSON Schema cannot say "unique by one key").


class Raw(str):
    """A message argument shown as it is (a code, a value), not translated."""


Message = str | tuple[Any, ...]  # a text, or (format, argument, ...); "%r" formats take the value


def _msg(fmt: str, *args: Any) -> Message:
    return (fmt, *args) if args else fmt


def _must_be(what: Message) -> dict[str, Any]:
    return {"x-message": _msg(gettext_noop("Must be %s."), what)}


def _lead_field(types: tuple[str, ...]) -> dict[str, Any]:
    """A lead field of one of `types`, or a free attribute (`attributes.<key>`)."""
    names = sorted(name for name, kind in CRITERIA_FIELDS.items() if kind in types)
    return {"anyOf": [{"enum": names}, {"type": "string", "pattern": r"^attributes\..+$"}]}


_TYPE_NAMES = {
    "text": gettext_noop("text"),
    "number": gettext_noop("number"),
    "bool": gettext_noop("yes/no"),
    "date": gettext_noop("date"),
}
_WHOLE = gettext_noop("a whole number between 1 and 36500")
_STRINGS = {
    "type": "array", "minItems": 1, "maxItems": 500,
    "items": {"type": "string", "minLength": 1, "maxLength": 200},
}  # fmt: skip


def _param(kind_of: str) -> dict[str, Any]:
    """The schema of a criterion's parameter of type `kind_of`, with the message for any way
    it can be wrong (one `anyOf` branch: one error at the parameter, not one per item)."""
    one_of = gettext_noop("one of %s")
    schemas: dict[str, tuple[dict[str, Any], Message]] = {
        "score": ({"enum": list(ScoreName.values)}, (one_of, Raw(", ".join(ScoreName.values)))),
        "number": ({"type": "number", "minimum": 0}, gettext_noop("a number ≥ 0")),
        "probability": (
            {"type": "number", "minimum": 0, "maximum": 1},
            gettext_noop("a probability between 0 and 1"),
        ),
        "days": ({"type": "integer", "minimum": 1, "maximum": 36500}, _WHOLE),
        "count": ({"type": "integer", "minimum": 1, "maximum": 36500}, _WHOLE),
        "direction": ({"enum": list(DIRECTIONS)}, (one_of, Raw(", ".join(DIRECTIONS)))),
        "strings": (_STRINGS, gettext_noop("a non-empty list of strings")),
        "fields": (
            {"type": "array", "minItems": 1, "items": _lead_field(tuple(_TYPE_NAMES))},
            gettext_noop("a non-empty list of lead fields"),
        ),
    }
    if kind_of in schemas:
        schema, what = schemas[kind_of]
    else:  # "<type>_field"
        field_type = kind_of.removesuffix("_field")
        schema = _lead_field((field_type,))
        what = (gettext_noop("a lead field of type %s"), _TYPE_NAMES[field_type])
    return {"anyOf": [schema], **_must_be(what)}


def _params(kind: str) -> dict[str, Any]:
    spec = KIND_PARAMS[kind]
    return {
        "type": "object",
        "properties": {name.rstrip("?"): _param(kind_of) for name, kind_of in spec.items()},
        "required": [name for name in spec if not name.endswith("?")],
        "additionalProperties": False,
        "x-message": gettext_noop("Must be an object."),
        "x-unknown": (gettext_noop("Unknown parameter for %s."), Raw(kind)),
        "x-required": gettext_noop("This parameter is required."),
    }


def _criterion() -> dict[str, Any]:
    code_message = gettext_noop("A lower-case code (a-z, 0-9, _), not 'other'.")
    return {
        "type": "object",
        "properties": {
            "code": {
                "type": "string", "pattern": CODE_RE.pattern, "not": {"enum": ["other"]},
                "x-message": code_message,
            },
            "kind": {
                "enum": list(KIND_PARAMS), "x-message": gettext_noop("Unknown kind %r."),
                "x-code": "invalid_choice",
            },
            "params": {"type": "object", "x-message": gettext_noop("Must be an object.")},
            "label": {"type": "string", "maxLength": 200},
        },
        "required": ["code", "kind", "params"],
        # The parameters of the kind named (none checked while the kind is unknown).
        "allOf": [
            {
                "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                "then": {"properties": {"params": _params(kind)}},
            }
            for kind in KIND_PARAMS
        ],
        "additionalProperties": False,
        "x-message": gettext_noop("Must be an object."),
        "x-unknown": gettext_noop("Unknown key."),
        "x-required": {"code": code_message, "kind": gettext_noop("Unknown kind %r."),
                       "params": gettext_noop("Must be an object.")},
    }  # fmt: skip


def _stage(name: str) -> dict[str, Any]:
    owner = gettext_noop("Must be 'marketing', 'inside_sales' or 'sales'.")
    properties: dict[str, Any] = {
        "owner": {"enum": list(Function.values), "x-message": owner, "x-code": "invalid_choice"},
        "sla_hours": {
            "type": "number", "exclusiveMinimum": 0, "maximum": 8760,
            "x-message": gettext_noop("Must be a number of hours > 0."),
        },
        "cooloff_days": {
            "type": "integer", "minimum": 0, "maximum": 3650,
            "x-message": gettext_noop("Must be whole days ≥ 0."),
        },
        "reassign_on_breach": {
            "type": "boolean", "x-message": gettext_noop("Must be true or false."),
        },
    }  # fmt: skip
    if name in CRITERIA_STAGES:
        properties["criteria"] = {
            "type": "array", "minItems": 1, "maxItems": MAX_CRITERIA, "items": _criterion(),
            "x-message": {
                "type": gettext_noop("Must be a list of criteria."),
                "minItems": gettext_noop("A stage needs at least one criterion."),
                "maxItems": (gettext_noop("At most %d criteria."), MAX_CRITERIA),
            },
            "x-code": {"minItems": "required", "maxItems": "max_length"},
        }  # fmt: skip
    else:
        properties["criteria"] = {
            "not": {}, "x-message": gettext_noop("Only mql, tql and sql have criteria."),
        }  # fmt: skip
    return {
        "type": "object",
        "properties": properties,
        "required": ["owner", "criteria"] if name in CRITERIA_STAGES else ["owner"],
        "additionalProperties": False,
        "x-message": gettext_noop("Must be an object."),
        "x-unknown": gettext_noop("Unknown key."),
        "x-required": {"owner": owner, "criteria": gettext_noop("Must be a list of criteria.")},
    }


def _document_schema() -> dict[str, Any]:
    stages_message = gettext_noop("Must be an object of stages.")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "leadflow definition document",
        "type": "object",
        "properties": {
            "stages": {
                "type": "object",
                "properties": {state: _stage(state) for state in LeadState.values},
                "required": list(STAGES_WITH_CRITERIA),
                "additionalProperties": False,
                "x-message": stages_message,
                "x-unknown": gettext_noop("Unknown stage %r."),
                "x-required": gettext_noop("This stage is required."),
            }
        },
        "required": ["stages"],
        "x-message": stages_message,
        "x-required": stages_message,
    }


DOCUMENT_SCHEMA = _document_schema()
_VALIDATOR = Draft202012Validator(DOCUMENT_SCHEMA)
CODES = {"required": "required", "additionalProperties": "unknown_field", "enum": "invalid_choice"}


def published_schema() -> dict[str, Any]:
    """The document's schema as published: standard JSON Schema, without our `x-` keys."""

    def clean(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: clean(v) for k, v in node.items() if not k.startswith("x-")}
        if isinstance(node, list):
            return [clean(v) for v in node]
        return node

    return cast(dict[str, Any], clean(DOCUMENT_SCHEMA))


def _render(message: Message, value: Any) -> str:
    if isinstance(message, Raw):
        return str(message)
    if isinstance(message, str):
        text = _(message)
        return text % (value,) if "%r" in message else text
    fmt, *args = message
    return _(fmt) % tuple(a if isinstance(a, int) else _render(a, value) for a in args)


def _pick(spec: Any, keyword: str, fallback: Any) -> Any:
    if isinstance(spec, dict):
        return spec.get(keyword, fallback)
    return fallback if spec is None else spec


def _errors_of(error: ValidationError) -> list[FieldError]:
    """Our errors for one of the schema's: the place (dotted), a message, a code."""
    at = ".".join(str(p) for p in error.absolute_path) or "stages"
    schema: Any = error.schema
    instance: Any = error.instance
    if not isinstance(schema, dict):  # pragma: no cover - every failing part is an object
        return [FieldError(at, _("Invalid."), "invalid")]
    if error.validator == "required":
        wanted: Any = error.validator_value
        names = [n for n in wanted if n not in instance]
        return [
            FieldError(
                f"{at}.{name}" if error.absolute_path else name,
                _render(_pick(schema.get("x-required"), name, gettext_noop("Invalid.")), None),
                "required",
            )
            for name in names
        ]
    if error.validator == "additionalProperties":
        known = set(schema.get("properties", {}))
        return [
            FieldError(f"{at}.{extra}", _render(schema["x-unknown"], extra), "unknown_field")
            for extra in sorted(set(instance) - known, key=str)
        ]
    message = _pick(schema.get("x-message"), str(error.validator), None)
    code = _pick(schema.get("x-code"), str(error.validator), None)
    return [
        FieldError(
            at,
            _render(message, instance) if message is not None else _("Invalid."),
            code or CODES.get(str(error.validator), "invalid"),
        )
    ]


def _inside_sales_errors(stages: Any) -> list[FieldError]:
    """SPEC §13: `tal` and `tql` come together; with them, inside sales owns `mql` and `tal` and
    field sales `tql`; without them, inside sales owns nothing."""
    if not isinstance(stages, dict):
        return []
    present = [s for s in INSIDE_SALES_STAGES if s in stages]
    if len(present) == 1:
        missing = next(s for s in INSIDE_SALES_STAGES if s not in stages)
        message = _("Inside sales needs both stages, tal and tql.")
        return [FieldError(f"stages.{missing}", message, "required")]
    errs = []
    for name, stage in stages.items():
        owner = stage.get("owner") if isinstance(stage, dict) else None
        if not isinstance(owner, str) or owner not in Function.values:
            continue  # the schema has said so
        if present and name in INSIDE_SALES_OWNERS and owner != INSIDE_SALES_OWNERS[name]:
            errs.append(FieldError(
                f"stages.{name}.owner",
                _("With the inside-sales stages, %(stage)s is owned by %(owner)s.")
                % {"stage": name, "owner": INSIDE_SALES_OWNERS[name]}, "invalid_choice",
            ))  # fmt: skip
        elif not present and owner == Function.INSIDE_SALES:
            errs.append(FieldError(
                f"stages.{name}.owner",
                _("Inside sales owns a stage only with the stages tal and tql."), "invalid_choice",
            ))  # fmt: skip
    return errs


def validate_document(doc: Any) -> list[FieldError]:
    """Every problem of a definition document, each with a dotted pointer into it; the first
    problem found at a place is the one reported there."""
    if not isinstance(doc, dict):
        return [FieldError("stages", _("Must be an object of stages."), "invalid")]
    errs: dict[str, FieldError] = {}
    for error in _VALIDATOR.iter_errors(doc):
        for found in _errors_of(error):
            errs.setdefault(found.field, found)
    for found in _inside_sales_errors(doc.get("stages")):
        errs.setdefault(found.field, found)
    for stage in CRITERIA_STAGES:  # codes are unique within a stage
        criteria = ((doc.get("stages") or {}).get(stage) or {}).get("criteria")
        seen: set[str] = set()
        for i, crit in enumerate(criteria if isinstance(criteria, list) else []):
            code = crit.get("code") if isinstance(crit, dict) else None
            at = f"stages.{stage}.criteria.{i}.code"
            if isinstance(code, str) and code in seen and at not in errs:
                errs[at] = FieldError(at, _("Duplicate code %r.") % code, "unique")
            elif isinstance(code, str):
                seen.add(code)
    return list(errs.values())


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
    elif kind == K.PROBABILITY_AT_LEAST:
        # The stored predictive score; the model that gave it is recorded with the result.
        observed = lead.win_probability
        passed = observed is not None and observed >= float(p["value"])
        expected = f"win probability ≥ {p['value']}"
        return {
            "code": crit["code"], "kind": kind, "passed": bool(passed),
            "observed": observed, "expected": expected, "model": lead.win_model,
        }  # fmt: skip
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
        elif kind == K.PROBABILITY_AT_LEAST:
            q &= Q(scores__win_probability__gte=p["value"])
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
