from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import advisor, funnel, inside_sales, prediction, reports
from analytics.backtest import backtest_start
from analytics.periods import BOUND_PATTERN, Period, period_from
from analytics.selectors import lead_scope_sql, report_handoffs, report_leads
from analytics.serializers import (
    AdvisorReportSerializer,
    AttributionReportSerializer,
    CriteriaReportSerializer,
    FunnelReportSerializer,
    HandoffReportSerializer,
    InsideSalesReportSerializer,
    LeadWinProbabilitySerializer,
    RecyclingReportSerializer,
    RevenueReportSerializer,
    WinModelSerializer,
)
from leadflow.apis import JobSerializer
from leadflow.errors import FieldError, ValidationFailed
from leadflow.filters import as_id
from leadflow.permissions import user_of
from leadflow.serializers import StrictSerializer
from leads.access import Can, permission
from leads.selectors import (
    definition_get,
    definition_published,
    definition_published_or_409,
    lead_access,
)

DAY_OR_MOMENT = {"type": "string", "pattern": BOUND_PATTERN}
PERIOD = [
    OpenApiParameter(
        "from", DAY_OR_MOMENT,
        description="First day (YYYY-MM-DD, in TIME_ZONE) or an ISO date-time; default 90 "
        "days before `to`.",
    ),
    OpenApiParameter(
        "to", DAY_OR_MOMENT,
        description="Last day (YYYY-MM-DD, included whole) or an ISO date-time; default now.",
    ),
]  # fmt: skip


def choice_param(
    request: Request, name: str, choices: Iterable[str], default: str | None
) -> str | None:
    """A query parameter that must be one of `choices` (400 naming them otherwise)."""
    value = request.query_params.get(name, default)
    if value is not None and value not in choices:
        raise ValidationFailed(
            [FieldError(name, f"One of: {', '.join(choices)}.", "invalid_choice")]
        )
    return value


# A report over `from`/`to`, scoped to what the caller may see: its figures come from `report`,
# its shape from `serializer_class`. (A comment, not a docstring: drf-spectacular would publish
# a docstring as every subclass's description.)
class PeriodReportApi(APIView):
    permission_classes = [permission(Can.READ)]
    serializer_class: type[serializers.Serializer[Any]]

    def report(self, request: Request, period: Period) -> dict[str, Any]:
        raise NotImplementedError

    def get(self, request: Request) -> Response:
        period = period_from(request.query_params)
        body = self.report(request, period)
        return Response(
            self.serializer_class({"from": period.start, "to": period.end, **body}).data
        )


@extend_schema_view(
    get=extend_schema(
        parameters=[*PERIOD, OpenApiParameter("group_by", str, enum=list(funnel.GROUPS))]
    )
)
class ReportFunnelApi(PeriodReportApi):
    serializer_class = FunnelReportSerializer

    def report(self, request: Request, period: Period) -> dict[str, Any]:
        group_by = choice_param(request, "group_by", funnel.GROUPS, None)
        return funnel.funnel_report(
            period=period, group_by=group_by, scope=lead_scope_sql(request.user)
        )


@extend_schema_view(get=extend_schema(parameters=PERIOD))
class ReportHandoffsApi(PeriodReportApi):
    serializer_class = HandoffReportSerializer

    def report(self, request: Request, period: Period) -> dict[str, Any]:
        return reports.handoff_report(period=period, handoffs=report_handoffs(request.user))


@extend_schema_view(get=extend_schema(parameters=PERIOD))
class ReportInsideSalesApi(PeriodReportApi):
    serializer_class = InsideSalesReportSerializer

    def report(self, request: Request, period: Period) -> dict[str, Any]:
        return inside_sales.inside_sales_report(period=period, user=request.user)


@extend_schema_view(
    get=extend_schema(
        parameters=[
            *PERIOD,
            OpenApiParameter("stage", str, enum=list(advisor.STAGES)),
            OpenApiParameter(
                "fresh", bool, description="Compute anew rather than read the stored report."
            ),
        ]
    )
)
class ReportAdvisorApi(PeriodReportApi):
    serializer_class = AdvisorReportSerializer

    def report(self, request: Request, period: Period) -> dict[str, Any]:
        stage = choice_param(request, "stage", advisor.STAGES, "mql") or "mql"
        fresh = choice_param(request, "fresh", ("true", "false"), "false") == "true"
        return advisor.advisor_figures(
            period=period, stage=stage, user=request.user,
            definition=definition_published(), fresh=fresh,
        )  # fmt: skip


@extend_schema_view(get=extend_schema(parameters=PERIOD))
class ReportAttributionApi(PeriodReportApi):
    serializer_class = AttributionReportSerializer

    def report(self, request: Request, period: Period) -> dict[str, Any]:
        return reports.attribution_report(period=period, leads=report_leads(request.user))


@extend_schema_view(get=extend_schema(parameters=PERIOD))
class ReportRecyclingApi(PeriodReportApi):
    serializer_class = RecyclingReportSerializer

    def report(self, request: Request, period: Period) -> dict[str, Any]:
        return reports.recycling_report(period=period, leads=report_leads(request.user))


def definition_param(request: Request) -> int | None:
    raw = request.query_params.get("definition")
    if raw is None or raw == "":
        return None
    definition_id = as_id(raw)
    if definition_id is None:
        raise ValidationFailed([FieldError("definition", "A definition id.", "invalid")])
    return definition_id


@extend_schema_view(
    get=extend_schema(
        parameters=[
            *PERIOD,
            OpenApiParameter("definition", int, description="Only wins under this version."),
        ]
    )
)
class ReportRevenueApi(PeriodReportApi):
    serializer_class = RevenueReportSerializer

    def report(self, request: Request, period: Period) -> dict[str, Any]:
        return reports.revenue_report(
            period=period, leads=report_leads(request.user), definition_id=definition_param(request)
        )


class ReportCriteriaApi(APIView):
    permission_classes = [permission(Can.READ)]

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
    permission_classes = [permission(Can.DEFINE)]

    @extend_schema(request=BacktestBodySerializer, responses={202: JobSerializer})
    def post(self, request: Request, definition_id: int) -> Response:
        definition = definition_get(definition_id=definition_id)
        if request.data is None or not isinstance(request.data, dict):
            raise ValidationFailed([FieldError("body", "A JSON object (or no body).", "invalid")])
        s = BacktestBodySerializer(data=request.data)
        s.is_valid(raise_exception=True)
        raw = {k: v.isoformat() for k, v in s.validated_data.items()}
        period = period_from(raw, default_days=365)
        job = backtest_start(definition=definition, period=period, actor=user_of(request))
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class WinModelApi(APIView):
    permission_classes = [permission(Can.DEFINE)]

    @extend_schema(responses={200: WinModelSerializer})
    def get(self, request: Request) -> Response:
        return Response(WinModelSerializer(prediction.model_card()).data)


class WinModelTrainApi(APIView):
    permission_classes = [permission(Can.DEFINE)]

    @extend_schema(request=None, responses={202: JobSerializer})
    def post(self, request: Request) -> Response:
        job = prediction.win_model_start(actor=user_of(request))
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class LeadWinProbabilityApi(APIView):
    permission_classes = [permission(Can.READ)]

    @extend_schema(responses={200: LeadWinProbabilitySerializer})
    def get(self, request: Request, lead_id: int) -> Response:
        lead = lead_access(user=request.user, lead_id=lead_id)
        why = prediction.explain(lead)
        body = {
            "lead": lead.pk, "win_probability": lead.win_probability, "model": lead.win_model,
            "probability_now": why["probability"] if why else None,
            "factors": why["factors"] if why else [],
        }  # fmt: skip
        return Response(LeadWinProbabilitySerializer(body).data)
