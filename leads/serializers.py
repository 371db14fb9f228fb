from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from leadflow.serializers import DecimalInput, JSONObjectField, StrictMixin, StrictSerializer
from leads import access
from leads.choices import ActivityKind, ActivityOutcome, DefinitionStatus, TransitionName
from leads.event_input import EventItem, event_schema, parse_events
from leads.models import Definition, Event, Lead, LeadTransition
from leads.normalize import nfkc, normalize_email, normalize_phone

LEAD_FIELDS = ["email", *access.MARKETING_FIELD_ORDER]
SALES_FIELDS = list(access.SALES_FIELD_ORDER)
STATE_MESSAGE = (
    "The state changes only through a transition: "
    "POST /api/v1/leads/{id}/transitions/{name}/ (see available_transitions)."
)


# The column limits of the lead's text fields, checked again after NFKC (which may grow text).
MAX_LENGTHS = {
    f.name: f.max_length for f in Lead._meta.concrete_fields if getattr(f, "max_length", None)
}


def _nfkc_strings(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: nfkc(v) if isinstance(v, str) else v for k, v in attrs.items()}


@extend_schema_field({
    "type": "string", "format": "email", "maxLength": 254,
    "description": "An e-mail address (full-width characters are read after NFKC).",
})  # fmt: skip
class EmailText(serializers.CharField):
    """An e-mail address as clients send it; `validate_email` normalises and checks it."""


class LeadFieldsSerializer(StrictMixin, serializers.ModelSerializer[Any]):
    """Lead fields as clients write them; normalised on the way in (NFKC, E.164, e-mail key)."""

    email = EmailText(max_length=254, required=False)

    unknown_field_messages = {"state": STATE_MESSAGE}
    attributes = JSONObjectField(required=False)
    budget = DecimalInput(
        max_digits=16, decimal_places=2, min_value=0, required=False, allow_null=True
    )

    class Meta:
        model = Lead
        fields = [*LEAD_FIELDS, *SALES_FIELDS]
        extra_kwargs: dict[str, Any] = {"email": {"validators": []}}
        # The e-mail is the only unique field and intake dedupes on it; without this, DRF would
        # introspect the model's constraints on every request to find none.
        validators: list[Any] = []

    def validate_email(self, value: str) -> str:
        try:
            return normalize_email(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(
                _("Enter a valid e-mail address."), code="invalid"
            ) from exc

    def validate_phone(self, value: str) -> str:
        try:
            return normalize_phone(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages[0], code="invalid_phone") from exc

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """NFKC, then the lengths again: one character may expand to many (`ﷺ` is 18)."""
        attrs = _nfkc_strings(attrs)
        too_long = {}
        for name, value in attrs.items():
            limit = MAX_LENGTHS.get(name)
            if limit and isinstance(value, str) and len(value) > limit:
                too_long[name] = [_("At most %d characters once normalised.") % limit]
        if too_long:
            raise serializers.ValidationError(too_long, code="max_length")
        return attrs


@extend_schema_field({
    "type": "array", "maxItems": settings.EVENTS_MAX_BATCH,
    "items": event_schema(lead_ref=False),
})  # fmt: skip
class EventsField(serializers.Field[Any, Any, Any, Any]):
    """Intake's `events`: up to 1000 items, each validated by `parse_event`."""

    def to_internal_value(self, data: Any) -> list[EventItem]:
        if not isinstance(data, list):
            raise serializers.ValidationError(_("Must be a list of events."), code="not_a_list")
        if len(data) > settings.EVENTS_MAX_BATCH:
            raise serializers.ValidationError(
                _("At most %(n)s events.") % {"n": settings.EVENTS_MAX_BATCH}, code="max_length"
            )
        valid, rejected = parse_events(data, lead_ref=False)
        if rejected:
            raise serializers.ValidationError(
                {
                    str(r["index"]): {e["field"]: [e["message"]] for e in r["errors"]}
                    for r in rejected
                }
            )
        return [item for _, item in valid]

    def to_representation(self, value: Any) -> Any:
        return value


class IntakeSerializer(LeadFieldsSerializer):
    email = EmailText(max_length=254)
    events = EventsField(required=False)

    class Meta(LeadFieldsSerializer.Meta):
        fields = [*LEAD_FIELDS, *SALES_FIELDS, "events"]
        extra_kwargs: dict[str, Any] = {"email": {"validators": [], "required": True}}


class LeadSerializer(serializers.ModelSerializer[Any]):
    available_transitions = serializers.SerializerMethodField()
    fit_score = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    engagement_score = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    score = serializers.DecimalField(max_digits=13, decimal_places=2, read_only=True)
    win_probability = serializers.FloatField(
        read_only=True, allow_null=True,
        help_text="The predictive score (0–1); null while there is no model. Why: "
        "`/leads/{id}/win-probability/`.",
    )  # fmt: skip
    win_model = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The version of the model that gave it."
    )

    class Meta:
        model = Lead
        fields = [
            "id",
            *LEAD_FIELDS,
            *SALES_FIELDS,
            "state",
            "responsible",
            "owner",
            "team",
            "definition",
            "fit_score",
            "engagement_score",
            "score",
            "win_probability",
            "win_model",
            "recycle_count",
            "recycle_reason",
            "recyclable_at",
            "won_amount",
            "lost_reason",
            "archive_reason",
            "state_changed_at",
            "created_at",
            "updated_at",
            "available_transitions",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(TransitionName.choices))
    )
    def get_available_transitions(self, lead: Lead) -> list[str]:
        from leads.services.transitions import available_transitions

        return available_transitions(lead, self.context["request"].user)


class IntakeResponseSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    state = serializers.CharField()
    created = serializers.BooleanField()
    events = serializers.DictField(required=False)


class EventBatchResponseSerializer(serializers.Serializer[Any]):
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.ListField(child=serializers.DictField())


class TransitionBodySerializer(StrictSerializer):
    reason = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    amount = DecimalInput(
        max_digits=16, decimal_places=2, required=False, allow_null=True, default=None
    )
    override = serializers.BooleanField(required=False, default=False)


class EventSerializer(serializers.ModelSerializer[Any]):
    id = serializers.CharField(source="external_id", allow_null=True)

    class Meta:
        model = Event
        fields = ["id", "type", "occurred_at", "properties"]


class TransitionSerializer(serializers.ModelSerializer[Any]):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = LeadTransition
        fields = [
            "id",
            "transition",
            "from_state",
            "to_state",
            "actor",
            "actor_kind",
            "responsible_before",
            "responsible_after",
            "team_before",
            "team_after",
            "owner_before",
            "owner_after",
            "reason",
            "note",
            "amount",
            "override",
            "definition",
            "evaluation",
            "occurred_at",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor(self, row: LeadTransition) -> str | None:
        return row.actor.get_username() if row.actor else None


class TimelineItemSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=["event", "transition"])
    at = serializers.DateTimeField()
    event = EventSerializer(required=False)
    transition = TransitionSerializer(required=False)


class TimelinePageSerializer(serializers.Serializer[Any]):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = TimelineItemSerializer(many=True)


class CriterionResultSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    kind = serializers.CharField()
    passed = serializers.BooleanField()
    observed = serializers.JSONField(allow_null=True)
    expected = serializers.JSONField()
    # No allow_null: a missing key is left out (only `probability_at_least` has one); a null
    # one (no model) is still given as null.
    model = serializers.IntegerField(
        required=False,
        help_text="`probability_at_least` only: the version of the model that gave the score "
        "(null: no model).",
    )


class EvaluationSerializer(serializers.Serializer[Any]):
    lead = serializers.IntegerField()
    stage = serializers.CharField()
    definition = serializers.IntegerField()
    passed = serializers.BooleanField()
    criteria = CriterionResultSerializer(many=True)


class DefinitionSerializer(serializers.ModelSerializer[Any]):
    version = serializers.IntegerField(source="pk", read_only=True)
    stages = serializers.SerializerMethodField()

    class Meta:
        model = Definition
        fields = [
            "id",
            "version",
            "name",
            "status",
            "stages",
            "published_at",
            "retired_at",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(serializers.DictField())
    def get_stages(self, definition: Definition) -> dict[str, Any]:
        return dict(definition.document.get("stages", {}))


class ActivitySerializer(StrictSerializer):
    """A call, e-mail or meeting on a lead (SPEC §13)."""

    kind = serializers.ChoiceField(choices=ActivityKind.choices)
    outcome = serializers.ChoiceField(choices=ActivityOutcome.choices)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    occurred_at = serializers.DateTimeField(required=False, help_text="Default: now.")

    def validate_occurred_at(self, value: Any) -> Any:
        from datetime import timedelta

        from django.utils import timezone

        if value > timezone.now() + timedelta(minutes=5):
            raise serializers.ValidationError("An activity cannot be in the future.")
        return value


class ActivityResultSerializer(serializers.Serializer[Any]):
    lead = serializers.IntegerField()
    type = serializers.CharField()
    occurred_at = serializers.DateTimeField()


class DefinitionWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    status = serializers.ChoiceField(
        choices=[(DefinitionStatus.DRAFT.value, DefinitionStatus.DRAFT.label)],
        required=False,
        help_text="Only 'draft'; publish with POST /api/v1/definitions/{id}/publish/.",
    )
    stages = JSONObjectField(
        max_bytes=65_536,
        help_text="The stages of the document; its JSON Schema: GET /api/v1/definitions/schema/.",
    )


class DefinitionPatchSerializer(DefinitionWriteSerializer):
    name = serializers.CharField(max_length=200, required=False)
    stages = JSONObjectField(max_bytes=65_536, required=False)
