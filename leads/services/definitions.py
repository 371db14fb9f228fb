"""Definition writes: drafts are edited; publishing retires the old version atomically."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadflow.errors import ConcurrentUpdate, Conflict, FieldError, ValidationFailed
from leads.choices import DefinitionStatus
from leads.definitions import validate_document
from leads.models import Definition

if TYPE_CHECKING:
    from leadflow.types import Actor


def _validated(document: Any) -> dict[str, Any]:
    errors = validate_document(document)
    if errors:
        raise ValidationFailed(
            [FieldError(f"document.{e.field}", e.message, e.code) for e in errors]
        )
    return dict(document)


def definition_create(*, name: str, document: Any, actor: Actor) -> Definition:
    return Definition.objects.create(
        name=name, document=_validated(document), created_by=actor, status=DefinitionStatus.DRAFT
    )


def definition_update(*, definition_id: int, name: str | None, document: Any | None) -> Definition:
    with transaction.atomic():
        definition = Definition.objects.select_for_update().get(pk=definition_id)
        if definition.status != DefinitionStatus.DRAFT:
            raise Conflict(_("Only drafts are editable; this one is %s.") % definition.status)
        if name is not None:
            definition.name = name
        if document is not None:
            definition.document = _validated(document)
        definition.save()
    return definition


def _require_available_reps(definition: Definition) -> None:
    """A definition routing MQLs through inside sales needs an available IS rep to route them
    to (SPEC §13: 409, naming the function)."""
    from accounts.choices import MembershipRole
    from accounts.models import TeamMembership
    from leadflow.choices import Function

    if not definition.has_inside_sales:
        return
    available = TeamMembership.objects.filter(
        team__function=Function.INSIDE_SALES, role=MembershipRole.REP, is_available=True,
        user__is_active=True,
    )  # fmt: skip
    if not available.exists():
        raise Conflict(
            _("No available rep of %s would receive its MQLs: add one first.")
            % Function.INSIDE_SALES.value
        )


# What follows a publication in its transaction (the advisor registers itself: `analytics.apps`).
publish_followers: list[Callable[[Definition], Any]] = []


def definition_publish(*, definition_id: int) -> Definition:
    """Publish a draft; the published one becomes retired in the same transaction."""
    try:
        with transaction.atomic():
            definition = Definition.objects.select_for_update().get(pk=definition_id)
            if definition.status != DefinitionStatus.DRAFT:
                raise Conflict(
                    _("Only a draft can be published; this one is %s.") % definition.status
                )
            _validated(definition.document)
            _require_available_reps(definition)
            now = timezone.now()
            Definition.objects.select_for_update().filter(status=DefinitionStatus.PUBLISHED).update(
                status=DefinitionStatus.RETIRED, retired_at=now
            )
            definition.status = DefinitionStatus.PUBLISHED
            definition.published_at = now
            definition.save(update_fields=["status", "published_at", "updated_at"])
            for follow in publish_followers:
                follow(definition)
    except IntegrityError as exc:
        raise ConcurrentUpdate(_("Another definition was published at the same time.")) from exc
    return definition
