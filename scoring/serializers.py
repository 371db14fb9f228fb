from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from leadflow.serializers import DecimalInput, StrictMixin
from leads.definitions import CRITERIA_FIELDS
from scoring.choices import FitOp, PropertyOp, RuleKind
from scoring.models import ScoringRule

ENGAGEMENT_FIELDS = {
    "event_type",
    "property_key",
    "property_op",
    "property_value",
    "half_life_days",
    "cap",
}
FIT_FIELDS = {"field", "operator", "values"}


class ScoringRuleSerializer(StrictMixin, serializers.ModelSerializer[Any]):
    event_type = serializers.RegexField(
        r"^[a-z][a-z0-9_.:\-]{0,63}$", required=False, allow_blank=True
    )
    property_key = serializers.RegexField(
        r"^[A-Za-z0-9_\-]{1,64}$", required=False, allow_blank=True
    )
    values = serializers.ListField(
        child=serializers.JSONField(allow_null=True), required=False, max_length=200
    )
    points = DecimalInput(
        max_digits=8, decimal_places=2, min_value=Decimal(-1000), max_value=Decimal(1000)
    )
    half_life_days = DecimalInput(
        max_digits=8, decimal_places=2, min_value=Decimal("0.01"), required=False, allow_null=True
    )
    cap = DecimalInput(
        max_digits=10, decimal_places=2, min_value=Decimal("0.01"), required=False, allow_null=True
    )

    class Meta:
        model = ScoringRule
        fields = [
            "id",
            "kind",
            "name",
            "is_active",
            "points",
            "event_type",
            "property_key",
            "property_op",
            "property_value",
            "half_life_days",
            "cap",
            "field",
            "operator",
            "values",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        merged = {**self._current(), **attrs}
        kind = merged.get("kind")
        errors: dict[str, str] = {}
        if self.instance is not None and "kind" in attrs and attrs["kind"] != self.instance.kind:
            errors["kind"] = _("The kind of a rule cannot change; create a new rule.")
        if kind == RuleKind.ENGAGEMENT:
            errors |= {f: _("Only for fit rules.") for f in FIT_FIELDS if attrs.get(f)}
            if not merged.get("event_type"):
                errors["event_type"] = _("An engagement rule needs an event type.")
            has_key, has_op = bool(merged.get("property_key")), bool(merged.get("property_op"))
            if has_key != has_op or (has_key and not merged.get("property_value")):
                errors["property_key"] = _(
                    "A property match needs property_key, property_op and property_value."
                )
        elif kind == RuleKind.FIT:
            errors |= {
                f: _("Only for engagement rules.") for f in ENGAGEMENT_FIELDS if attrs.get(f)
            }
            errors |= self._fit_errors(merged)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def _current(self) -> dict[str, Any]:
        if self.instance is None:
            return {}
        return {f: getattr(self.instance, f) for f in ("kind", *ENGAGEMENT_FIELDS, *FIT_FIELDS)}

    @staticmethod
    def _fit_errors(r: dict[str, Any]) -> dict[str, str]:
        op, values, name = r.get("operator"), r.get("values") or [], r.get("field") or ""
        if op not in FitOp.values:
            return {"operator": _("One of: %s.") % ", ".join(FitOp.values)}
        if op == FitOp.EMAIL_DOMAIN_IN:
            ok = values and all(isinstance(v, str) and "." in v for v in values)
            return {} if ok else {"values": _("A list of e-mail domains.")}
        if name not in CRITERIA_FIELDS:
            return {"field": _("A lead field (see the definition criteria fields).")}
        numeric = CRITERIA_FIELDS[name] == "number"
        if op == FitOp.BETWEEN:
            nums = len(values) == 2 and all(
                v is None or (isinstance(v, int | float) and not isinstance(v, bool))
                for v in values
            )
            if not numeric or not nums or values == [None, None]:
                return {
                    "values": "between needs a number field and [min, max] (either may be null)."
                }
        elif op == FitOp.PRESENT:
            return {"values": "present takes no values."} if values else {}
        elif not values or not all(
            isinstance(v, str | int | float) and not isinstance(v, bool) for v in values
        ):
            return {"values": _("A non-empty list of values.")}
        return {}


class BreakdownRuleSerializer(serializers.Serializer[Any]):
    rule = serializers.IntegerField(source="rule_id")
    name = serializers.CharField()
    kind = serializers.CharField()
    points = serializers.FloatField()
    capped = serializers.BooleanField()
    matched_value = serializers.JSONField(allow_null=True)
    events = serializers.ListField(child=serializers.DictField())


class BreakdownSerializer(serializers.Serializer[Any]):
    lead = serializers.IntegerField()
    as_of = serializers.DateTimeField()
    fit_score = serializers.FloatField()
    engagement_score = serializers.FloatField()
    score = serializers.FloatField()
    computed = serializers.DictField(child=serializers.FloatField())
    fit = BreakdownRuleSerializer(many=True)
    engagement = BreakdownRuleSerializer(many=True)


class _RuleCommon(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200)
    is_active = serializers.BooleanField(required=False)
    points = DecimalInput(
        max_digits=8, decimal_places=2, min_value=Decimal(-1000), max_value=Decimal(1000)
    )


class FitRuleInputSerializer(_RuleCommon):
    """A fit rule as the API takes it (documentation: `ScoringRuleSerializer` validates)."""

    kind = serializers.ChoiceField(choices=[(RuleKind.FIT.value, RuleKind.FIT.label)])
    field = serializers.ChoiceField(choices=sorted(CRITERIA_FIELDS))
    operator = serializers.ChoiceField(choices=FitOp.choices)
    values = serializers.ListField(
        child=serializers.JSONField(allow_null=True), required=False, max_length=200
    )


class EngagementRuleInputSerializer(_RuleCommon):
    """An engagement rule as the API takes it (documentation: `ScoringRuleSerializer`)."""

    kind = serializers.ChoiceField(choices=[(RuleKind.ENGAGEMENT.value, RuleKind.ENGAGEMENT.label)])
    event_type = serializers.RegexField(r"^[a-z][a-z0-9_.:\-]{0,63}$")
    property_key = serializers.RegexField(
        r"^[A-Za-z0-9_\-]{1,64}$", required=False, allow_blank=True
    )
    property_op = serializers.ChoiceField(choices=PropertyOp.choices, required=False)
    property_value = serializers.CharField(max_length=200, required=False, allow_blank=True)
    half_life_days = DecimalInput(
        max_digits=8, decimal_places=2, min_value=Decimal("0.01"), required=False, allow_null=True
    )
    cap = DecimalInput(
        max_digits=10, decimal_places=2, min_value=Decimal("0.01"), required=False, allow_null=True
    )
