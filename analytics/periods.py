"""Report periods and the role scope of report figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from leadflow.errors import FieldError, ValidationFailed


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime  # exclusive


def _bound(raw: str | None, name: str, *, end: bool) -> datetime | None:
    if not raw:
        return None
    try:  # well-formed but impossible values (month 13) raise
        dt = parse_datetime(raw)
        d: date | None = parse_date(raw) if dt is None else None
    except ValueError:
        dt = d = None
    if dt is None:
        if d is None:
            raise ValidationFailed(
                [FieldError(name, "A date (YYYY-MM-DD) or an ISO 8601 date-time.", "invalid")]
            )
        dt = datetime.combine(d + timedelta(days=1) if end else d, time.min)
    return timezone.make_aware(dt) if timezone.is_naive(dt) else dt


def period_from(params: Any, *, default_days: int = 90) -> Period:
    """`from` and `to` (inclusive dates or date-times); the last `default_days` by default."""
    now = timezone.now()
    end = _bound(params.get("to"), "to", end=True) or now
    start = _bound(params.get("from"), "from", end=False) or end - timedelta(days=default_days)
    if start >= end:
        raise ValidationFailed([FieldError("from", "Must be before 'to'.", "invalid")])
    if end - start > timedelta(days=3660):
        raise ValidationFailed([FieldError("from", "At most ten years.", "invalid")])
    return Period(start, end)
