"""Translated labels of lead fields, for forms, tables and the CSV mapping."""

from django.utils.translation import gettext_lazy as _

FIELD_LABELS = {
    "email": _("E-mail"),
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "first_name_kana": _("First name (kana)"),
    "last_name_kana": _("Last name (kana)"),
    "company": _("Company"),
    "department": _("Department"),
    "title": _("Title"),
    "phone": _("Phone"),
    "industry": _("Industry"),
    "company_size": _("Company size (employees)"),
    "country": _("Country"),
    "website": _("Website"),
    "source": _("Source"),
    "campaign": _("Campaign"),
    "utm_source": _("UTM source"),
    "utm_medium": _("UTM medium"),
    "utm_campaign": _("UTM campaign"),
    "utm_term": _("UTM term"),
    "utm_content": _("UTM content"),
    "consent": _("Consent to be contacted"),
    "budget": _("Budget"),
    "decision_maker": _("Decision maker reached"),
    "timeline": _("Timeline (decision date)"),
    "need": _("Need"),
    "type": _("Event type"),
    "occurred_at": _("Occurred at"),
    "id": _("Event id"),
    "properties": _("Properties (JSON)"),
}

# Names of inputs that are not lead fields, as pages show them.
INPUT_LABELS = {
    "from": _("From"),
    "to": _("To"),
    "min_score": _("Score at least"),
    "amount": _("Amount"),
    "reason": _("Reason"),
    "note": _("Note"),
    "name": _("Name"),
    "url": _("URL"),
    "secret": _("Secret"),
    "event_types": _("Events"),
}


def label_of(field: str) -> str:
    """The label of an input named in an error; "" where the error concerns the whole form."""
    if field in ("", "body", "non_field_errors"):
        return ""
    label = FIELD_LABELS.get(field) or INPUT_LABELS.get(field)
    return str(label) if label else ""


# The criteria builder's parameter inputs.
PARAM_LABELS = {
    "score": _("Score"),
    "value": _("At least"),
    "field": _("Field"),
    "fields": _("Fields"),
    "values": _("Values"),
    "days": _("Days"),
    "count": _("Times"),
    "direction": _("Direction"),
    "types": _("Event types"),
    "domains": _("Domains"),
}

# The default engagement rules (scoring/0002) and the demo's fit rules: data, named in English,
# shown in the page's language. A rule someone names keeps its name.
SHIPPED_RULE_NAMES = {
    "Feature page view": _("Feature page view"),
    "Document download": _("Document download"),
    "Quote request": _("Quote request"),
    "Target industry": _("Target industry"),
    "Mid-size company": _("Mid-size company"),
    "Senior title": _("Senior title"),
    "Free-mail address": _("Free-mail address"),
}
