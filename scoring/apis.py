from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leadflow.apis import JobSerializer
from leadflow.permissions import user_of
from leads.access import Can, permission
from leads.selectors import lead_access
from scoring import selectors, services
from scoring.serializers import (
    BreakdownSerializer,
    EngagementRuleInputSerializer,
    FitRuleInputSerializer,
    ScoringRuleSerializer,
)


class ScoringRuleListApi(APIView):
    permission_classes = [permission(Can.EDIT_RULES, read=Can.READ)]

    @extend_schema(responses={200: ScoringRuleSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(ScoringRuleSerializer(selectors.rule_list(), many=True).data)

    @extend_schema(
        # The schema says which fields go with which kind, as the validation does.
        request=PolymorphicProxySerializer(
            component_name="ScoringRuleInput",
            serializers={
                "fit": FitRuleInputSerializer,
                "engagement": EngagementRuleInputSerializer,
            },
            resource_type_field_name="kind",
        ),
        responses={201: ScoringRuleSerializer},
    )
    def post(self, request: Request) -> Response:
        s = ScoringRuleSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        rule = services.rule_create(actor=user_of(request), **s.validated_data)
        return Response(ScoringRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class ScoringRuleDetailApi(APIView):
    permission_classes = [permission(Can.EDIT_RULES, read=Can.READ)]

    @extend_schema(responses={200: ScoringRuleSerializer})
    def get(self, request: Request, rule_id: int) -> Response:
        return Response(ScoringRuleSerializer(selectors.rule_get(rule_id=rule_id)).data)

    @extend_schema(
        request=ScoringRuleSerializer(partial=True), responses={200: ScoringRuleSerializer}
    )
    def patch(self, request: Request, rule_id: int) -> Response:
        rule = selectors.rule_get(rule_id=rule_id)
        s = ScoringRuleSerializer(rule, data=request.data, partial=True)
        s.is_valid(raise_exception=True)
        rule = services.rule_update(rule_id=rule_id, actor=user_of(request), **s.validated_data)
        return Response(ScoringRuleSerializer(rule).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, rule_id: int) -> Response:
        selectors.rule_get(rule_id=rule_id)
        services.rule_delete(rule_id=rule_id, actor=user_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ScoreRecomputeApi(APIView):
    permission_classes = [permission(Can.EDIT_RULES)]

    @extend_schema(request=None, responses={202: JobSerializer})
    def post(self, request: Request) -> Response:
        job = services.score_recompute_enqueue(actor=user_of(request), reason="requested")
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class LeadScoreApi(APIView):
    permission_classes = [permission(Can.READ)]

    @extend_schema(responses={200: BreakdownSerializer})
    def get(self, request: Request, lead_id: int) -> Response:
        lead = lead_access(user=request.user, lead_id=lead_id)
        breakdown = selectors.lead_score_breakdown(lead=lead, as_of=timezone.now())
        return Response(BreakdownSerializer(breakdown).data)
