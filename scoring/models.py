from decimal import Decimal

from django.db import models
from django.db.models import Q

from leadflow.models import TimeStampedModel
from scoring.choices import FitOp, PropertyOp, RuleKind


class ScoringRule(TimeStampedModel):
    """One scoring rule, as data. An engagement rule gives `points` per matching event (event
    type plus an optional property match), decayed by `half_life_days` and capped per lead by
    `cap`. A fit rule gives `points` once when a lead attribute meets its condition."""

    kind = models.CharField(max_length=16, choices=RuleKind.choices)
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    points = models.DecimalField(max_digits=8, decimal_places=2)
    # engagement
    event_type = models.CharField(max_length=64, blank=True)
    property_key = models.CharField(max_length=64, blank=True)
    property_op = models.CharField(max_length=16, choices=PropertyOp.choices, blank=True)
    property_value = models.CharField(max_length=200, blank=True)
    half_life_days = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    cap = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    # fit
    field = models.CharField(max_length=64, blank=True)
    operator = models.CharField(max_length=16, choices=FitOp.choices, blank=True)
    values = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["kind", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=RuleKind.values), name="rule_kind_valid"),
            models.CheckConstraint(
                condition=~Q(kind=RuleKind.ENGAGEMENT) | ~Q(event_type=""),
                name="rule_engagement_has_event_type",
            ),
            models.CheckConstraint(
                condition=Q(half_life_days__isnull=True) | Q(half_life_days__gt=Decimal(0)),
                name="rule_half_life_positive",
            ),
            models.CheckConstraint(
                condition=Q(cap__isnull=True) | Q(cap__gt=Decimal(0)), name="rule_cap_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.name} ({self.points:+})"
