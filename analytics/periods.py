"""Report periods and the role scope of report figures."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from leadflow.errors import FieldError, ValidationFailed

# A day, or an ISO 8601 date-time with an optional offset, or nothing (the default): what the
# schema documents and the server takes, exactly.
BOUND_PATTERN = (
    r"^([0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})?)?)?$"
)
_BOUND = re.compile(BOUND_PATTERN)


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime  # exclusive


def _bound(raw: str | None, name: str, *, end: bool) -> datetime | None:
    """A period's bound: a date is a whole day in `TIME_ZONE` (the start of the first day, or
    the end of the last one: periods include both ends); a date-time is taken as it is."""
    if not raw:
        return None
    if not _BOUND.fullmatch(raw):
        raise ValidationFailed(
            [FieldError(name, _("A date (YYYY-MM-DD) or an ISO 8601 date-time."), "invalid")]
        )
    try:  # well-formed but impossible values (month 13) raise; so do dates past year 9999
        # A bare date first: `parse_datetime` would read it as midnight, the start of that day.
        d = parse_date(raw) if len(raw) == 10 else None
        dt: datetime | None
        if d is not None:
            dt = datetime.combine(d + timedelta(days=1) if end else d, time.min)
        else:
            dt = parse_datetime(raw)
        if dt is not None:
            dt = (
                timezone.make_aware(dt, timezone.get_default_timezone())
                if timezone.is_naive(dt)
                else dt
            )
            # Reports turn bounds into days of TIME_ZONE: a moment that leaves the calendar
            # there (or any other sane range) is refused, not an overflow later.
            local = dt.astimezone(timezone.get_default_timezone()).astimezone(UTC)
            if not 1900 <= local.year <= 2999:
                dt = None
    except (ValueError, OverflowError):
        dt = None
    if dt is None:
        raise ValidationFailed(
            [FieldError(name, _("A date (YYYY-MM-DD) or an ISO 8601 date-time."), "invalid")]
        )
    return dt


def period_from(params: Any, *, default_days: int = 90) -> Period:
    """`from` and `to`: dates are whole days in `TIME_ZONE`, both included (`from=to=` is one
    day); date-times are exact. By default, the last `default_days` days up to and including
    today, whole days like any other period (SPEC §15)."""
    tomorrow = timezone.localdate() + timedelta(days=1)
    end = _bound(params.get("to"), "to", end=True) or timezone.make_aware(
        datetime.combine(tomorrow, time.min), timezone.get_default_timezone()
    )
    start = _bound(params.get("from"), "from", end=False) or end - timedelta(days=default_days)
    if start >= end:
        raise ValidationFailed(
            [FieldError("from", _("The first day must not be after the last day."), "invalid")]
        )
    if end - start > timedelta(days=3660):
        raise ValidationFailed([FieldError("from", _("At most ten years."), "invalid")])
    return Period(start, end)
