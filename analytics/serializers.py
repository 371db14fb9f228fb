"""The shapes of the reports: they render every response, so the OpenAPI schema is what is sent."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from leads.choices import LeadState


class PeriodSerializer(serializers.Serializer[Any]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from"] = serializers.DateTimeField(help_text="Start of the period.")
        self.fields["to"] = serializers.DateTimeField(help_text="End of the period (exclusive).")


class FunnelFiguresSerializer(serializers.Serializer[Any]):
    entered = serializers.IntegerField()
    converted = serializers.IntegerField(help_text="Entries that moved on to the next stage.")
    conversion_rate = serializers.FloatField(allow_null=True)
    median_days = serializers.FloatField(allow_null=True, help_text="Within 2% of the exact.")
    p80_days = serializers.FloatField(allow_null=True, help_text="Within 2% of the exact.")


class FunnelStageSerializer(serializers.Serializer[Any]):
    stage = serializers.ChoiceField(choices=LeadState.choices)
    first = FunnelFiguresSerializer(help_text="First entries.")
    reentry = FunnelFiguresSerializer(help_text="Re-entries from recycled.")


class FunnelGroupSerializer(serializers.Serializer[Any]):
    key = serializers.CharField(allow_blank=True)
    stages = FunnelStageSerializer(many=True)


class FunnelReportSerializer(PeriodSerializer):
    stages = FunnelStageSerializer(many=True, required=False, help_text="Without group_by.")
    group_by = serializers.CharField(required=False)
    groups = FunnelGroupSerializer(many=True, required=False, help_text="With group_by.")


class HandoffFiguresSerializer(serializers.Serializer[Any]):
    team = serializers.IntegerField(allow_null=True)
    rep = serializers.IntegerField(allow_null=True, required=False)
    total = serializers.IntegerField()
    open = serializers.IntegerField()
    answered_within_sla = serializers.IntegerField()
    breached = serializers.IntegerField()
    accepted = serializers.IntegerField()
    rejected = serializers.IntegerField()
    median_response_hours = serializers.FloatField(allow_null=True)
    accept_rate = serializers.FloatField(allow_null=True)
    reject_rate = serializers.FloatField(allow_null=True)
    rejections_by_criterion = serializers.DictField(child=serializers.IntegerField())


class HandoffReportSerializer(PeriodSerializer):
    teams = HandoffFiguresSerializer(many=True)
    reps = HandoffFiguresSerializer(many=True)


class FirstTouchSerializer(serializers.Serializer[Any]):
    source = serializers.CharField()  # type: ignore[assignment]
    campaign = serializers.CharField(allow_blank=True)
    leads = serializers.IntegerField()
    mqls = serializers.IntegerField()
    sqls = serializers.IntegerField()
    won = serializers.IntegerField()
    won_amount = serializers.DecimalField(max_digits=20, decimal_places=2)


class LastTouchSerializer(serializers.Serializer[Any]):
    campaign = serializers.CharField(allow_blank=True)
    mqls = serializers.IntegerField()
    won = serializers.IntegerField()
    won_amount = serializers.DecimalField(max_digits=20, decimal_places=2)


class AttributionReportSerializer(PeriodSerializer):
    first_touch = FirstTouchSerializer(many=True)
    last_touch = LastTouchSerializer(many=True)


class CriterionFiguresSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    mqls_passed = serializers.IntegerField()
    mqls_failed = serializers.IntegerField(help_text="Let through by an override.")
    rejections = serializers.IntegerField(help_text="Rejections citing this criterion.")
    won_rate_rejected = serializers.FloatField(
        allow_null=True, help_text="Of the leads rejected citing it, the share won since."
    )
    won_rate_passed = serializers.FloatField(allow_null=True)
    won_rate_failed = serializers.FloatField(allow_null=True)
    won_passed_share = serializers.FloatField(
        allow_null=True, help_text="Of the won leads that qualified, the share that passed it."
    )


class CriteriaReportSerializer(serializers.Serializer[Any]):
    definition = serializers.IntegerField()
    accepted = serializers.IntegerField(help_text="MQLs sales accepted under the definition.")
    won_rate_accepted = serializers.FloatField(allow_null=True)
    won_qualified = serializers.IntegerField(help_text="Won leads that qualified under it.")
    criteria = CriterionFiguresSerializer(many=True)


class RecycledReasonSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(allow_blank=True)
    count = serializers.IntegerField()


class RecyclingReportSerializer(PeriodSerializer):
    recycled = serializers.IntegerField(help_text="Moves to recycled in the period.")
    by_transition = serializers.DictField(child=serializers.IntegerField())
    by_reason = RecycledReasonSerializer(many=True)
    reentries = serializers.IntegerField(help_text="Recycled → MQL moves in the period.")
    came_back = serializers.IntegerField(
        help_text="Of those moves, how many the lead came back from as an MQL (its next move)."
    )
    eventually_won = serializers.IntegerField(
        help_text="Of those moves, how many were of a lead that is won now."
    )


class RevenueRowSerializer(serializers.Serializer[Any]):
    source = serializers.CharField()  # type: ignore[assignment]
    campaign = serializers.CharField(allow_blank=True, required=False)
    won = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=20, decimal_places=2)


class RevenueReportSerializer(PeriodSerializer):
    won = serializers.IntegerField(help_text="Deals won in the period (counted on the win day).")
    amount = serializers.DecimalField(max_digits=20, decimal_places=2)
    by_source = RevenueRowSerializer(many=True, help_text="By first-touch source.")
    by_campaign = RevenueRowSerializer(many=True, help_text="By first-touch source and campaign.")


class SpeedToLeadSerializer(serializers.Serializer[Any]):
    touched = serializers.IntegerField(help_text="Handoffs whose assignee logged an activity.")
    median_hours = serializers.FloatField(allow_null=True, help_text="Within 2% of the exact.")
    p80_hours = serializers.FloatField(allow_null=True, help_text="Within 2% of the exact.")
    share_within_1h = serializers.FloatField(
        allow_null=True, help_text="Of the MQLs received: touched within an hour of the handoff."
    )


class InsideSalesFiguresSerializer(serializers.Serializer[Any]):
    team = serializers.IntegerField(allow_null=True)
    rep = serializers.IntegerField(allow_null=True)
    mqls_received = serializers.IntegerField(help_text="MQL handoffs to IS opened in the period.")
    accepted = serializers.IntegerField()
    rejected = serializers.IntegerField()
    rejections_by_criterion = serializers.DictField(child=serializers.IntegerField())
    speed_to_lead = SpeedToLeadSerializer()
    activities = serializers.IntegerField(help_text="Logged in the period by the rep(s).")
    calls = serializers.IntegerField()
    connect_rate = serializers.FloatField(allow_null=True, help_text="Connected calls ÷ calls.")
    tqls = serializers.IntegerField(help_text="TQL handoffs opened in the period.")
    activities_per_tql = serializers.FloatField(
        allow_null=True, help_text="Activities on the lead before it was handed over, per TQL."
    )
    tql_rate = serializers.FloatField(allow_null=True, help_text="TQLs ÷ MQLs accepted.")
    tqls_accepted = serializers.IntegerField(help_text="By field sales.")
    tqls_rejected = serializers.IntegerField(help_text="Sent back to IS by field sales.")
    tql_rejections_by_criterion = serializers.DictField(child=serializers.IntegerField())
    won_revenue = serializers.DecimalField(
        max_digits=20, decimal_places=2, help_text="Won amount of the TQLs field sales accepted."
    )


class InsideSalesReportSerializer(PeriodSerializer):
    teams = InsideSalesFiguresSerializer(many=True)
    reps = InsideSalesFiguresSerializer(many=True)


class AdvisorAttributeSerializer(serializers.Serializer[Any]):
    attribute = serializers.CharField()
    value = serializers.CharField(allow_blank=True)
    count = serializers.IntegerField()
    won = serializers.IntegerField()
    win_rate = serializers.FloatField()
    interval = serializers.ListField(child=serializers.FloatField(), help_text="95% Wilson.")
    lift = serializers.FloatField(allow_null=True, help_text="Win rate ÷ the base rate.")
    gain = serializers.FloatField(help_text="Wins above (below) what the base rate gives.")
    significant = serializers.BooleanField(help_text="The interval leaves out the base rate.")


class AdvisorGroupSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    won = serializers.IntegerField()
    win_rate = serializers.FloatField(allow_null=True)
    interval = serializers.ListField(child=serializers.FloatField(), allow_null=True)


class AdvisorCriterionSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    kind = serializers.CharField()
    label = serializers.CharField(allow_blank=True)  # type: ignore[assignment]  # a field named "label"
    rejections = serializers.IntegerField(help_text="MQLs rejected citing it in the period.")
    rejected_then_won = serializers.IntegerField()
    won_rate_rejected = serializers.FloatField(allow_null=True)
    interval = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    passed = AdvisorGroupSerializer(
        allow_null=True, help_text="The leads with an outcome that pass it at their MQL moment."
    )
    failed = AdvisorGroupSerializer(allow_null=True)
    difference = serializers.ListField(
        child=serializers.FloatField(), allow_null=True,
        help_text="Passing minus failing win rate, and its 95% interval (Newcombe).",
    )  # fmt: skip
    predictive = serializers.BooleanField(
        allow_null=True, help_text="The interval of the difference leaves out 0."
    )


class AdvisorPointSerializer(serializers.Serializer[Any]):
    threshold = serializers.IntegerField()
    mqls = serializers.IntegerField()
    won = serializers.IntegerField()
    wins_kept = serializers.FloatField(
        allow_null=True, help_text="Share of the wins at the lowest threshold."
    )
    sal_acceptance = serializers.FloatField(allow_null=True)


class AdvisorThresholdSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    score = serializers.CharField()
    current = serializers.FloatField()
    suggested = serializers.IntegerField(
        allow_null=True, help_text="The highest threshold keeping ≥ 95% of the wins."
    )
    wins_recovered = serializers.IntegerField(required=False)
    mqls_change = serializers.IntegerField(required=False)
    points = AdvisorPointSerializer(many=True)


class AdvisorValueSerializer(AdvisorAttributeSerializer):
    code = serializers.CharField()
    in_list = serializers.BooleanField()
    suggestion = serializers.ChoiceField(choices=["add", "drop"], allow_null=True)


class AdvisorSuggestionSerializer(serializers.Serializer[Any]):
    change = serializers.ChoiceField(choices=["threshold", "add", "drop", "remove"])
    code = serializers.CharField()
    value = serializers.JSONField(allow_null=True)


class AdvisorFindingSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=["attribute", "value", "criterion", "threshold"])
    gain = serializers.FloatField(help_text="The wins at stake: the sort key.")
    attribute = serializers.CharField(required=False)
    value = serializers.JSONField(required=False)
    code = serializers.CharField(required=False)
    label = serializers.CharField(required=False, allow_blank=True)  # type: ignore[assignment]
    lift = serializers.FloatField(required=False, allow_null=True)
    current = serializers.FloatField(required=False)
    wins_recovered = serializers.IntegerField(required=False)
    mqls_change = serializers.IntegerField(required=False)
    suggestion = AdvisorSuggestionSerializer(allow_null=True)


class AdvisorReportSerializer(PeriodSerializer):
    stage = serializers.CharField()
    leads = serializers.IntegerField(help_text="Leads whose outcome became known in the period.")
    won = serializers.IntegerField()
    base_rate = serializers.FloatField(allow_null=True)
    base_interval = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    definition = serializers.IntegerField(allow_null=True, help_text="The published version.")
    as_of = serializers.DateTimeField(
        help_text="When these figures were computed: a stored report is read while it is younger "
        "than `ADVISOR_SNAPSHOT_HOURS` (25 by default; `fresh=true` computes anew), and each night "
        "recomputes the default period's."
    )
    attributes = AdvisorAttributeSerializer(many=True)
    criteria = AdvisorCriterionSerializer(many=True)
    thresholds = AdvisorThresholdSerializer(many=True)
    values = AdvisorValueSerializer(many=True)
    findings = AdvisorFindingSerializer(many=True)


class WinFactorSerializer(serializers.Serializer[Any]):
    feature = serializers.CharField(help_text="An attribute (`industry`, …) or `events`.")
    value = serializers.CharField(help_text="The attribute's value, or the event type.")
    count = serializers.IntegerField(allow_null=True, help_text="Events counted (events only).")
    contribution = serializers.FloatField(
        help_text="The probability minus what it would be without this feature."
    )


class LeadWinProbabilitySerializer(serializers.Serializer[Any]):
    lead = serializers.IntegerField()
    win_probability = serializers.FloatField(
        allow_null=True, help_text="As stored at the lead's last scoring (0–1)."
    )
    model = serializers.IntegerField(allow_null=True, help_text="The model that gave it.")
    probability_now = serializers.FloatField(
        allow_null=True, help_text="The model in use's probability as of now."
    )
    factors = WinFactorSerializer(many=True, help_text="The largest shares first (up to 3).")


class CalibrationBandSerializer(serializers.Serializer[Any]):
    low = serializers.FloatField()
    high = serializers.FloatField()
    leads = serializers.IntegerField()
    predicted = serializers.FloatField(help_text="The band's mean predicted probability.")
    won = serializers.IntegerField()
    actual = serializers.FloatField(help_text="The band's actual win rate.")
    interval = serializers.ListField(child=serializers.FloatField(), help_text="95% Wilson.")


class ModelWeightSerializer(serializers.Serializer[Any]):
    feature = serializers.CharField()
    value = serializers.CharField()
    weight = serializers.FloatField(help_text="Log-odds per unit (events: per ln(1 + count)).")


class WinModelSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=["none", "trained", "not_enough_history"])
    version = serializers.IntegerField(required=False)
    trained_at = serializers.DateTimeField(required=False)
    min_wins = serializers.IntegerField(help_text="Fewer wins in the history: no model.")
    leads = serializers.IntegerField(required=False, help_text="Closed leads in the history.")
    wins = serializers.IntegerField(required=False)
    history_from = serializers.DateTimeField(required=False)
    train_leads = serializers.IntegerField(required=False)
    holdout_leads = serializers.IntegerField(required=False)
    holdout_wins = serializers.IntegerField(required=False)
    holdout_from = serializers.DateTimeField(
        required=False, allow_null=True, help_text="The held-out recent period's start."
    )
    auc = serializers.FloatField(required=False, allow_null=True)
    brier = serializers.FloatField(required=False, allow_null=True)
    calibration = CalibrationBandSerializer(many=True, required=False)
    weights = ModelWeightSerializer(many=True, required=False)
    window_days = serializers.IntegerField(required=False)
