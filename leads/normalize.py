"""Input hygiene (SPEC §8): NFKC for Japanese full-width input, E.164 phones, e-mail keys."""

from __future__ import annotations

import unicodedata

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email


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
        raise ValidationError("Not a phone number.", code="invalid_phone") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValidationError("Not a possible phone number.", code="invalid_phone")
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
