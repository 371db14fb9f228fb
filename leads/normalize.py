"""Input hygiene (SPEC §8): NFKC for Japanese full-width input, E.164 phones, e-mail keys."""

from __future__ import annotations

import unicodedata

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _


def nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def normalize_email(value: str) -> str:
    """The dedupe key and stored form: NFKC (full-width ＠ and letters), trimmed, lower-case."""
    email = nfkc(value).lower()
    validate_email(email)
    return email


def normalize_phone(value: str, region: str | None = None) -> str:
    """E.164, reading numbers without a country code in `PHONE_DEFAULT_REGION` (JP)."""
    text = nfkc(value)
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, region or settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("Not a phone number."), code="invalid_phone") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValidationError(_("Not a possible phone number."), code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def contains_nul(value: object) -> bool:
    """True if a NUL character hides anywhere in a JSON-like value (PostgreSQL refuses it)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(contains_nul(v) for v in value)
    return False


_CURRENCY_MARKS = ("¥", "円", "JPY", "$", "USD", "€", "EUR")


def parse_amount(value: str) -> str:
    """An amount as people write it (`1,000,000`, `¥1,000,000`, `１２３`, `4,800,000円`) as plain
    digits with an optional decimal point; what is not an amount comes back as it was typed, for
    the validation to name."""
    text = nfkc(value)
    # NFKC maps the full-width yen sign to ¥ and full-width digits and commas to ASCII.
    cleaned = text.upper()
    for mark in _CURRENCY_MARKS:
        cleaned = cleaned.replace(mark, "")
    cleaned = cleaned.replace(",", "").replace(" ", "").replace("_", "")
    if cleaned.count(".") <= 1 and cleaned.replace(".", "").isdigit() and cleaned[0] != ".":
        return cleaned
    return text


def phone_display(value: str) -> str:
    """A stored E.164 number as people read it: national format in the default region
    (`03-6769-5617`), international elsewhere."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return value
    region = phonenumbers.region_code_for_number(number)
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if region == settings.PHONE_DEFAULT_REGION
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)
