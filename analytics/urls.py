from django.urls import path

import leadflow.converters  # noqa: F401 - registers <id:>
from analytics import apis

urlpatterns = [
    path("reports/funnel/", apis.ReportFunnelApi.as_view(), name="report-funnel"),
    path("reports/handoffs/", apis.ReportHandoffsApi.as_view(), name="report-handoffs"),
    path("reports/inside-sales/", apis.ReportInsideSalesApi.as_view(), name="report-inside-sales"),
    path("reports/advisor/", apis.ReportAdvisorApi.as_view(), name="report-advisor"),
    path("reports/win-model/", apis.WinModelApi.as_view(), name="report-win-model"),
    path("reports/win-model/train/", apis.WinModelTrainApi.as_view(), name="win-model-train"),
    path(
        "leads/<id:lead_id>/win-probability/",
        apis.LeadWinProbabilityApi.as_view(),
        name="lead-win-probability",
    ),
    path("reports/attribution/", apis.ReportAttributionApi.as_view(), name="report-attribution"),
    path("reports/criteria/", apis.ReportCriteriaApi.as_view(), name="report-criteria"),
    path("reports/recycling/", apis.ReportRecyclingApi.as_view(), name="report-recycling"),
    path("reports/revenue/", apis.ReportRevenueApi.as_view(), name="report-revenue"),
    path(
        "definitions/<id:definition_id>/backtest/",
        apis.DefinitionBacktestApi.as_view(),
        name="definition-backtest",
    ),
]
