"""Formatting for the web UI: money in the configured currency, days, rates, state labels and
query strings that keep the current filters."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from babel.numbers import format_currency, format_decimal
from django import template
from django.conf import settings
from django.utils.translation import get_language, gettext, ngettext

from leads.choices import LeadState, Source, TransitionName

register = template.Library()
LOCALES = {"ja": "ja_JP", "en": "en_US"}


def _locale() -> str:
    return LOCALES.get((get_language() or "en")[:2], "en_US")


@register.filter
def money(value: Any) -> str:
    """An amount in `CURRENCY` (JPY by default: no decimals), in the page's language."""
    if value is None or value == "":
        return "—"
    return str(format_currency(Decimal(str(value)), settings.CURRENCY, locale=_locale()))


@register.filter
def number(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return str(format_decimal(Decimal(str(value)), locale=_locale()))


@register.filter
def hours(value: Any) -> str:
    """A duration given in hours; below an hour, in minutes (how speed to lead is read)."""
    if value is None:
        return "—"
    h = float(value)
    if h < 1:
        return gettext("%(n)s min") % {"n": format_decimal(round(h * 60), locale=_locale())}
    return gettext("%(n)s h") % {"n": format_decimal(round(h, 1), locale=_locale())}


@register.filter
def days(value: Any) -> str:
    if value is None:
        return "—"
    return ngettext("%(n)s day", "%(n)s days", 1 if float(value) == 1 else 2) % {
        "n": format_decimal(round(float(value), 1), locale=_locale())
    }


@register.filter
def pp(value: Any) -> str:
    """A change of a probability in percentage points, signed: 0.213 reads "+21.3 pt"."""
    if value is None:
        return "—"
    return gettext("%(n)s pt") % {"n": f"{float(value) * 100:+.1f}"}


@register.filter
def pct(value: Any) -> str:
    if value is None:
        return "—"
    return f"{float(value) * 100:.1f}%"


def _label(choices: Any, value: str) -> str:
    """The translated label of a choice; an unknown value as it is."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


@register.filter
def state_label(value: str) -> str:
    return _label(LeadState, value)


@register.filter
def transition_label(value: str) -> str:
    return _label(TransitionName, value)


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    if not mapping:
        return None
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.simple_tag(takes_context=True)
def query(context: Any, **changes: Any) -> str:
    """The current query string with `changes` applied (None or "" removes a parameter)."""
    params = context["request"].GET.copy()
    if "cursor" not in changes:  # a new filter or sort starts from the first page
        params.pop("cursor", None)
    for key, value in changes.items():
        params.pop(key, None)
        if value not in (None, ""):
            params[key] = value
    encoded = urlencode(sorted(params.lists()), doseq=True)
    return f"?{encoded}" if encoded else "?"


@register.filter
def get_attr(obj: Any, name: str) -> Any:
    return getattr(obj, name, None)


@register.filter
def field_label(name: str) -> str:
    from web.labels import FIELD_LABELS

    return str(FIELD_LABELS.get(name, name))


@register.filter
def lines(values: Any) -> str:
    return "\n".join(str(v) for v in values or [])


@register.filter
def as_json(value: Any) -> str:
    """A criterion's observed or expected value as compact JSON (dates as text)."""
    import json

    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


@register.filter
def source_label(value: str) -> str:
    return _label(Source, value)


def _is_ja() -> bool:
    from web.criteria import is_ja

    return is_ja()


@register.filter
def datetime(value: Any) -> str:
    """A moment in `TIME_ZONE`: `2026-12-07 04:44`, in Japanese `2026年12月7日 04:44`."""
    from datetime import datetime as dt

    from django.utils import timezone

    if not isinstance(value, dt):
        return "—"
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    if _is_ja():
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    return f"{local:%Y-%m-%d %H:%M}"


@register.filter
def day(value: Any) -> str:
    """A calendar day: `2026-12-07`, in Japanese `2026年12月7日`."""
    from datetime import date
    from datetime import datetime as dt

    from django.utils import timezone

    if isinstance(value, dt):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if not isinstance(value, date):
        return "—"
    return f"{value.year}年{value.month}月{value.day}日" if _is_ja() else value.isoformat()


@register.filter
def webhook_event_label(value: str) -> str:
    from handoff.choices import WebhookEvent

    return gettext("every event") if value == "*" else _label(WebhookEvent, value)


@register.filter
def webhook_events(values: Any) -> str:
    return ", ".join(webhook_event_label(v) for v in values or [])


@register.filter
def input_value(lead: Any, name: str) -> Any:
    """A lead field as its form input shows it (a JP phone in national format)."""
    from leads.normalize import phone_display

    value = getattr(lead, name, None)
    if name == "phone":
        return phone_display(value or "")
    return value


@register.filter
def display_value(lead: Any, name: str) -> str:
    """A lead field as a page shows it: labels for choices, "—" for nothing."""
    from leads.normalize import phone_display
    from web.criteria import value_text

    value = getattr(lead, name, None)
    if name == "phone":
        return phone_display(value or "") or "—"
    if name == "company_size" and value is not None:
        return number(value)
    return value_text(name, value)


@register.filter
def amount_input(value: Any) -> str:
    """An amount as a form input shows it: `5,000,000` (no decimals where there are none)."""
    from web.criteria import number_text

    return "" if value is None else number_text(value)


@register.filter
def reason(code: str) -> str:
    from web.criteria import reason_label

    return reason_label(code or "")


@register.filter
def event_label(event_type: str) -> str:
    from web.criteria import event_label as label

    return label(event_type or "")


@register.filter
def param_label(name: str) -> str:
    from web.labels import PARAM_LABELS

    return str(PARAM_LABELS.get(name, name))


@register.filter
def rule_match(rule: Any) -> str:
    """An engagement rule's property match as a phrase: `URL contains “/features”`."""
    if not rule.property_key:
        return "—"
    key = "URL" if rule.property_key == "url" else rule.property_key
    text = {
        "contains": gettext("%(key)s contains “%(value)s”"),
        "equals": gettext("%(key)s is “%(value)s”"),
        "prefix": gettext("%(key)s starts with “%(value)s”"),
    }.get(rule.property_op, "%(key)s %(value)s")
    return text % {"key": key, "value": rule.property_value}


@register.filter
def fit_condition(rule: Any) -> str:
    """A fit rule's condition as a sentence, with choices by their labels."""
    from web.criteria import field_name, value_text

    field = field_name(rule.field)
    values = [value_text(rule.field, v) for v in rule.values or []]
    sep = "、" if _is_ja() else ", "
    if rule.operator == "between" and len(values) == 2:
        return gettext("%(field)s between %(low)s and %(high)s") % {
            "field": field, "low": values[0], "high": values[1]}  # fmt: skip
    if rule.operator == "present":
        return gettext("%(field)s is filled in") % {"field": field}
    text = {
        "equals": gettext("%(field)s is %(values)s"),
        "in": gettext("%(field)s is one of: %(values)s"),
        "contains": gettext("%(field)s contains %(values)s"),
        "email_domain_in": gettext("E-mail domain is one of: %(values)s"),
    }.get(rule.operator, "%(field)s %(values)s")
    return text % {"field": field, "values": sep.join(values)}


@register.filter
def rule_name(name: str) -> str:
    """The name of a rule; the rules leadflow ships (and the demo's) in the page's language."""
    from web.labels import SHIPPED_RULE_NAMES

    return str(SHIPPED_RULE_NAMES.get(name, name))


@register.filter
def change_value(value: Any, field: str) -> str:
    """A value recorded in a field change, as the page shows that field."""
    from leads.normalize import phone_display
    from web.criteria import value_text

    if field == "phone" and isinstance(value, str):
        return phone_display(value) or "—"
    if field == "budget" and value not in (None, ""):
        return money(value)
    return value_text(field, value)
