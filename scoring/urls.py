from django.urls import path

import leadflow.converters  # noqa: F401 - registers <id:>
from leadflow.apis import JobDetailApi
from scoring import apis

urlpatterns = [
    path("scoring-rules/", apis.ScoringRuleListApi.as_view(), name="scoring-rule-list"),
    path(
        "scoring-rules/<id:rule_id>/",
        apis.ScoringRuleDetailApi.as_view(),
        name="scoring-rule-detail",
    ),
    path("scoring/recompute/", apis.ScoreRecomputeApi.as_view(), name="scoring-recompute"),
    path("leads/<id:lead_id>/score/", apis.LeadScoreApi.as_view(), name="lead-score"),
    path("jobs/<id:job_id>/", JobDetailApi.as_view(), name="job-detail"),
]
