from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import funnel, reports
from analytics.periods import period_from
from analytics.selectors import lead_scope_sql, report_leads
from analytics.serializers import (
    AttributionReportSerializer,
    CriteriaReportSerializer,
    FunnelReportSerializer,
    HandoffReportSerializer,
    RecyclingReportSerializer,
)
from handoff.selectors import handoff_list
from leadflow.apis import JobSerializer
from leadflow.choices import Role
from leadflow.errors import FieldError, ValidationFailed
from leadflow.filters import as_id
from leadflow.jobs import job_create
from leadflow.permissions import AnyRole, role_permission
from leadflow.serializers import StrictSerializer
from leads.selectors import definition_get, definition_published_or_409

logger = logging.getLogger(__name__)
PERIOD = [
    OpenApiParameter(
        "from", str, description="First day (YYYY-MM-DD) or an ISO date-time; default 90 days ago."
    ),
    OpenApiParameter(
        "to", str, description="Last day (inclusive) or an ISO date-time; default now."
    ),
]


class ReportFunnelApi(APIView):
    permission_classes = [AnyRole]

    @extend_schema(
        parameters=[*PERIOD, OpenApiParameter("group_by", str, enum=list(funnel.GROUPS))],
        responses={200: FunnelReportSerializer},
    )
    def get(self, request: Request) -> Response:
        group_by = request.query_params.get("group_by")
        if group_by is not None and group_by not in funnel.GROUPS:
            raise ValidationFailed(
                [FieldError("group_by", f"One of: {', '.join(funnel.GROUPS)}.", "invalid_choice")]
            )
        period = period_from(request.query_params)
        body = funnel.funnel_report(
            period=period, group_by=group_by, scope=lead_scope_sql(request.user)
        )
        return Response(
            FunnelReportSerializer({"from": period.start, "to": period.end, **body}).data
        )


class ReportHandoffsApi(APIView):
    permission_classes = [AnyRole]

    @extend_schema(parameters=PERIOD, responses={200: HandoffReportSerializer})
    def get(self, request: Request) -> Response:
        period = period_from(request.query_params)
        body = reports.handoff_report(period=period, handoffs=handoff_list(user=request.user))
        return Response(
            HandoffReportSerializer({"from": period.start, "to": period.end, **body}).data
        )


class ReportAttributionApi(APIView):
    permission_classes = [AnyRole]

    @extend_schema(parameters=PERIOD, responses={200: AttributionReportSerializer})
    def get(self, request: Request) -> Response:
        period = period_from(request.query_params)
        body = reports.attribution_report(period=period, leads=report_leads(request.user))
        return Response(
            AttributionReportSerializer({"from": period.start, "to": period.end, **body}).data
        )


class ReportRecyclingApi(APIView):
    permission_classes = [AnyRole]

    @extend_schema(parameters=PERIOD, responses={200: RecyclingReportSerializer})
    def get(self, request: Request) -> Response:
        period = period_from(request.query_params)
        body = reports.recycling_report(period=period, leads=report_leads(request.user))
        return Response(
            RecyclingReportSerializer({"from": period.start, "to": period.end, **body}).data
        )


class ReportCriteriaApi(APIView):
    permission_classes = [AnyRole]

    @extend_schema(
        parameters=[OpenApiParameter("definition", int)],
        responses={200: CriteriaReportSerializer},
    )
    def get(self, request: Request) -> Response:
        raw = request.query_params.get("definition")
        if raw is not None and as_id(raw) is None:
            raise ValidationFailed([FieldError("definition", "A definition id.", "invalid")])
        definition = (
            definition_get(definition_id=int(raw)) if raw else definition_published_or_409()
        )
        body = reports.criteria_report(definition=definition, leads=report_leads(request.user))
        return Response(CriteriaReportSerializer(body).data)


class BacktestBodySerializer(StrictSerializer):
    from_ = serializers.DateField(required=False)
    to = serializers.DateField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from"] = self.fields.pop("from_")


class DefinitionBacktestApi(APIView):
    permission_classes = [role_permission(Role.COO)]

    @extend_schema(request=BacktestBodySerializer, responses={202: JobSerializer})
    def post(self, request: Request, definition_id: int) -> Response:
        definition = definition_get(definition_id=definition_id)
        if request.data is None or not isinstance(request.data, dict):
            raise ValidationFailed([FieldError("body", "A JSON object (or no body).", "invalid")])
        s = BacktestBodySerializer(data=request.data)
        s.is_valid(raise_exception=True)
        raw = {k: v.isoformat() for k, v in s.validated_data.items()}
        period = period_from(raw, default_days=365)
        job = job_create(
            kind="backtest",
            actor=request.user,
            params={
                "definition": definition.pk,
                "from": period.start.isoformat(),
                "to": period.end.isoformat(),
            },
        )

        def enqueue() -> None:
            from analytics.tasks import backtest_job

            try:
                backtest_job.delay(job.pk)
            except Exception:
                logger.warning("could not enqueue backtest job %s", job.pk)

        transaction.on_commit(enqueue)
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
