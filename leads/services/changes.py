"""The record of who changed which fields of a lead (SPEC §12: the lead's timeline)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from leads.models import LeadChange

if TYPE_CHECKING:
    from leadflow.types import Actor


def _plain(value: Any) -> Any:
    """A field value as JSON keeps it."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def plain_values(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in fields.items()}


def lead_changes_record(
    changes: list[tuple[int, dict[str, list[Any]]]], *, actor: Actor, via: str
) -> None:
    """One row per lead that changed: {field: [before, after]}. Set-based (an import's chunk)."""
    rows = [
        LeadChange(
            lead_id=lead_id,
            actor=actor if getattr(actor, "pk", None) else None,
            via=via,
            changes={k: [_plain(a), _plain(b)] for k, (a, b) in fields.items()},
        )
        for lead_id, fields in changes
        if fields
    ]
    LeadChange.objects.bulk_create(rows)
