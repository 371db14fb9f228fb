"""Editing a lead's fields, by the role rules of SPEC §7."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from leadflow.errors import Conflict, Forbidden
from leads import access
from leads.models import Lead, LeadChange
from leads.selectors import lead_access
from leads.services.changes import lead_changes_record
from leads.services.events import lead_rescore_request

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from leadflow.types import Caller


def lead_may_edit(lead: Lead, user: Caller, fields: set[str]) -> bool:
    """Whether `user` may edit every one of `fields` of the lead now (`leads.access`)."""
    return set(fields) <= access.editable_fields(lead, user)


def lead_update(*, lead_id: int, actor: User, fields: dict[str, Any]) -> Lead:
    """Write validated fields; 403 if the actor's role may not edit this lead now."""
    with transaction.atomic():
        lead = lead_access(user=actor, lead_id=lead_id, for_update=True)
        if not lead_may_edit(lead, actor, set(fields)):
            raise Forbidden(
                _("Your role may not edit these fields of a lead in state '%s'.") % lead.state
            )
        changed: dict[str, list[Any]] = {}
        for name, value in fields.items():
            if name == "attributes":
                value = {**(lead.attributes or {}), **value}
            if getattr(lead, name) != value:
                changed[name] = [getattr(lead, name), value]
            setattr(lead, name, value)
        try:
            with transaction.atomic():
                lead.save(update_fields=[*fields, "updated_at"] if fields else ["updated_at"])
        except IntegrityError as exc:
            raise Conflict(_("Another lead already has this e-mail address.")) from exc
        lead_changes_record([(lead.pk, changed)], actor=actor, via=LeadChange.Via.EDIT)
        if fields:
            lead_rescore_request([lead.pk])  # its fit (and field criteria) may have changed
    return lead
