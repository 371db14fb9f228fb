from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from handoff.choices import WebhookEvent
from handoff.models import (
    AssignmentRule,
    Handoff,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from leadflow.serializers import StrictMixin
from leads.serializers import CriterionResultSerializer
from scoring.serializers import ScoringRuleSerializer


class LeadSummarySerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    email = serializers.CharField()
    name = serializers.CharField(source="full_name")
    company = serializers.CharField()
    title = serializers.CharField()
    state = serializers.CharField()
    score = serializers.DecimalField(max_digits=13, decimal_places=2)


class HandoffSerializer(serializers.ModelSerializer[Any]):
    lead = LeadSummarySerializer()
    evaluation = serializers.SerializerMethodField()
    breached = serializers.BooleanField()

    class Meta:
        model = Handoff
        fields = [
            "id",
            "lead",
            "stage",
            "status",
            "team",
            "assignee",
            "definition",
            "opened_at",
            "due_at",
            "warned_at",
            "breached",
            "breached_at",
            "reassign_count",
            "answered_at",
            "answered_by",
            "reason",
            "note",
            "evaluation",
        ]

    @extend_schema_field(CriterionResultSerializer(many=True))
    def get_evaluation(self, h: Handoff) -> list[dict[str, Any]]:
        return list(h.qualification.evaluation) if h.qualification else []


class AssignmentRuleSerializer(StrictMixin, serializers.ModelSerializer[Any]):
    values = serializers.ListField(
        child=serializers.JSONField(allow_null=True), required=False, max_length=200
    )

    class Meta:
        model = AssignmentRule
        fields = [
            "id",
            "position",
            "name",
            "is_active",
            "field",
            "operator",
            "values",
            "team",
            "rep",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        merged = {
            **(
                {}
                if self.instance is None
                else {
                    f: getattr(self.instance, f)
                    for f in ("field", "operator", "values", "team", "rep")
                }
            ),
            **attrs,
        }
        errors = ScoringRuleSerializer._fit_errors(merged)
        if not merged.get("team") and not merged.get("rep"):
            errors["team"] = _("A rule routes to a team or a rep.")
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class WebhookSubscriptionSerializer(StrictMixin, serializers.ModelSerializer[Any]):
    secret = serializers.CharField(write_only=True, min_length=16, max_length=200)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=[("*", "every event"), *WebhookEvent.choices]),
        min_length=1,
        max_length=len(WebhookEvent.choices) + 1,  # each kind once at most
    )

    def validate_event_types(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    class Meta:
        model = WebhookSubscription
        fields = ["id", "name", "url", "secret", "event_types", "is_active", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_url(self, value: str) -> str:
        from handoff.destinations import UnsafeDestination, validate_at_save

        try:
            validate_at_save(value)
        except UnsafeDestination as exc:
            raise serializers.ValidationError(str(exc), code="unsafe_destination") from exc
        return value


class WebhookAttemptSerializer(serializers.ModelSerializer[Any]):
    class Meta:
        model = WebhookAttempt
        fields = ["attempted_at", "status_code", "error", "duration_ms"]


class WebhookDeliverySerializer(serializers.ModelSerializer[Any]):
    log = WebhookAttemptSerializer(many=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_type",
            "payload",
            "status",
            "attempts",
            "last_status_code",
            "next_attempt_at",
            "delivered_at",
            "created_at",
            "log",
        ]
