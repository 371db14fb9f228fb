"""Criteria and reasons as people read them: a criterion's rule as a sentence, what was observed
as a value in words, a reason code as its label. Codes never reach a page."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leads.choices import (
    ArchiveReason,
    CriterionKind,
    DisqualifyReason,
    Industry,
    LostReason,
    ScoreName,
    Source,
)
from web.labels import FIELD_LABELS

K = CriterionKind
KIND_LABELS = {
    K.SCORE_AT_LEAST: gettext_lazy("Score at least"),
    K.FIELD_IN: gettext_lazy("Field is one of"),
    K.FIELD_NOT_IN: gettext_lazy("Field is none of"),
    K.FIELDS_PRESENT: gettext_lazy("Fields filled in"),
    K.FIELD_TRUE: gettext_lazy("Field is yes"),
    K.FIELD_AT_LEAST: gettext_lazy("Number at least"),
    K.DATE_WITHIN: gettext_lazy("Date within"),
    K.ACTIVITY_WITHIN: gettext_lazy("Activity within"),
    K.EMAIL_DOMAIN_NOT_IN: gettext_lazy("E-mail domain is none of"),
    K.PROBABILITY_AT_LEAST: gettext_lazy("Win probability at least"),
}
SCORE_LABELS = {
    ScoreName.FIT: gettext_lazy("Fit score"),
    ScoreName.ENGAGEMENT: gettext_lazy("Engagement score"),
    ScoreName.TOTAL: gettext_lazy("Total score"),
}
EVENT_LABELS = {
    "page_view": gettext_lazy("page view"),
    "document_download": gettext_lazy("document download"),
    "quote_request": gettext_lazy("quote request"),
    "demo_request": gettext_lazy("demo request"),
    "webinar_attended": gettext_lazy("webinar attended"),
    "email_open": gettext_lazy("e-mail opened"),
    "email_click": gettext_lazy("e-mail link clicked"),
    "form_submit": gettext_lazy("form sent"),
    "activity.call": gettext_lazy("call"),
    "activity.email": gettext_lazy("e-mail sent"),
    "activity.meeting": gettext_lazy("meeting"),
}


def number_text(value: Any) -> str:
    try:
        n = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{n:,.0f}" if n == n.to_integral_value() else f"{n:,.2f}"


def percent_text(value: Any) -> str:
    """A probability (0–1) as a percentage: 0.425 reads "42.5%"."""
    try:
        n = Decimal(str(value)) * 100
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{n:.0f}%" if n == n.to_integral_value() else f"{n:.1f}%"


def field_name(name: str) -> str:
    if name.startswith("attributes."):
        return name.split(".", 1)[1]
    return str(FIELD_LABELS.get(name, name))


def value_text(field: str, value: Any) -> str:
    """A stored value of `field` in words: the label of a choice, "—" for nothing."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    for name, choices in (("industry", Industry), ("source", Source)):
        if field == name:
            try:
                return str(choices(str(value).strip().casefold()).label)
            except ValueError:
                return str(value)
    return str(value)


def event_label(event_type: str) -> str:
    return str(EVENT_LABELS.get(event_type, event_type.replace("_", " ")))


def _list(field: str, values: list[Any]) -> str:
    return ("、" if is_ja() else ", ").join(value_text(field, v) for v in values)


def is_ja() -> bool:
    """Whether the page is in Japanese (lists join with 、, dates read 2026年12月7日)."""
    from django.utils.translation import get_language

    return (get_language() or "en")[:2] == "ja"


def criterion_sentence(kind: str, p: dict[str, Any]) -> str:
    """The rule of a criterion as one sentence."""
    if kind == K.SCORE_AT_LEAST:
        return _("%(score)s at least %(value)s") % {
            "score": SCORE_LABELS.get(p.get("score", ""), p.get("score", "")),
            "value": number_text(p.get("value")),
        }
    if kind in (K.FIELD_IN, K.FIELD_NOT_IN):
        text = (
            _("%(field)s is one of: %(values)s")
            if kind == K.FIELD_IN
            else _("%(field)s is none of: %(values)s")
        )
        return text % {"field": field_name(p.get("field", "")),
                       "values": _list(p.get("field", ""), p.get("values", []))}  # fmt: skip
    if kind == K.FIELDS_PRESENT:
        return _("%(fields)s filled in") % {
            "fields": _list("", [field_name(f) for f in p.get("fields", [])])
        }
    if kind == K.FIELD_TRUE:
        return _("%(field)s is yes") % {"field": field_name(p.get("field", ""))}
    if kind == K.FIELD_AT_LEAST:
        return _("%(field)s at least %(value)s") % {
            "field": field_name(p.get("field", "")),
            "value": number_text(p.get("value")),
        }
    if kind == K.DATE_WITHIN:
        text = {
            "past": _("%(field)s within the last %(days)s days"),
            "either": _("%(field)s within %(days)s days either side of today"),
        }.get(p.get("direction", "future"), _("%(field)s within the next %(days)s days"))
        return text % {"field": field_name(p.get("field", "")), "days": p.get("days")}
    if kind == K.ACTIVITY_WITHIN:
        count = p.get("count", 1)
        types = _list("", [event_label(t) for t in p.get("types", [])])
        if count > 1:
            return _("%(types)s at least %(count)s times in the last %(days)s days") % {
                "types": types,
                "count": count,
                "days": p.get("days"),
            }
        return _("%(types)s in the last %(days)s days") % {"types": types, "days": p.get("days")}
    if kind == K.PROBABILITY_AT_LEAST:
        return _("Win probability at least %(value)s") % {"value": percent_text(p.get("value"))}
    if kind == K.EMAIL_DOMAIN_NOT_IN:
        return _("E-mail domain is none of: %(domains)s") % {
            "domains": _list("", p.get("domains", []))
        }
    return str(kind)


def observed_text(kind: str, p: dict[str, Any], observed: Any) -> str:
    """What a lead had, for a criterion of this kind."""
    if kind in (K.SCORE_AT_LEAST, K.FIELD_AT_LEAST):
        return "—" if observed is None else number_text(observed)
    if kind in (K.FIELD_IN, K.FIELD_NOT_IN, K.FIELD_TRUE):
        return value_text(p.get("field", ""), observed)
    if kind == K.FIELDS_PRESENT:
        missing = (observed or {}).get("missing", []) if isinstance(observed, dict) else []
        if not missing:
            return _("all filled in")
        return _("missing: %s") % _list("", [field_name(f) for f in missing])
    if kind == K.ACTIVITY_WITHIN:
        return _("%s times") % str(observed)
    if kind == K.PROBABILITY_AT_LEAST:
        return _("no model") if observed is None else percent_text(observed)
    return str(value_text("", observed))


def criterion_label(crit: dict[str, Any]) -> str:
    """A criterion's name: its own label if the definition gives one, else its rule."""
    return str(
        crit.get("label") or criterion_sentence(crit.get("kind", ""), crit.get("params", {}))
    )


def criteria_by_code(document: dict[str, Any] | None, stage: str) -> dict[str, dict[str, Any]]:
    stage_doc = ((document or {}).get("stages") or {}).get(stage) or {}
    return {str(c.get("code")): c for c in stage_doc.get("criteria") or [] if isinstance(c, dict)}


def describe(
    evaluation: list[dict[str, Any]], document: dict[str, Any] | None, stage: str
) -> list[dict[str, Any]]:
    """An evaluation (live or stored with a transition) as rows a person reads."""
    known = criteria_by_code(document, stage)
    rows = []
    for item in evaluation or []:
        crit = known.get(str(item.get("code"))) or {"kind": item.get("kind", ""), "params": {}}
        kind, params = crit.get("kind", ""), crit.get("params", {})
        rows.append({
            "code": item.get("code"), "passed": bool(item.get("passed")),
            "label": criterion_label(crit) if crit.get("params") or crit.get("label")
            else str(KIND_LABELS.get(kind, kind)),
            "kind": str(KIND_LABELS.get(kind, kind)),
            "observed": observed_text(kind, params, item.get("observed")),
            "expected": criterion_sentence(kind, params) if params else "—",
        })  # fmt: skip
    return rows


def reason_label(code: str, document: dict[str, Any] | None = None, stage: str = "mql") -> str:
    """A rejection, disqualification, loss or archive reason as its label."""
    if not code:
        return _("(no reason given)")
    if code == "other":
        return _("Other")
    crit = criteria_by_code(document, stage).get(code)
    if crit is not None:
        return criterion_label(crit)
    if code.startswith("lost:"):
        return _("Lost: %s") % reason_label(code.split(":", 1)[1])
    if code == "lost":
        return _("Lost")
    for choices in (DisqualifyReason, LostReason, ArchiveReason):
        if code in choices.values:
            return str(choices(code).label)
    return code.replace("_", " ")


def reason_choices(document: dict[str, Any] | None, stage: str = "mql") -> list[tuple[str, str]]:
    """The reasons a rejection may give: the stage's criteria by label, then "other"."""
    crits = criteria_by_code(document, stage)
    return [*((code, criterion_label(c)) for code, c in crits.items()), ("other", _("Other"))]
