from django.urls import path

from leads import apis

urlpatterns = [
    path("intake/", apis.IntakeApi.as_view(), name="intake"),
    path("events/", apis.EventBatchApi.as_view(), name="events"),
    path("leads/", apis.LeadListApi.as_view(), name="lead-list"),
    path("leads/<int:lead_id>/", apis.LeadDetailApi.as_view(), name="lead-detail"),
    path("leads/<int:lead_id>/timeline/", apis.LeadTimelineApi.as_view(), name="lead-timeline"),
    path(
        "leads/<int:lead_id>/evaluation/", apis.LeadEvaluationApi.as_view(), name="lead-evaluation"
    ),
    path(
        "leads/<int:lead_id>/transitions/<str:name>/",
        apis.LeadTransitionApi.as_view(),
        name="lead-transition",
    ),
    path("definitions/", apis.DefinitionListApi.as_view(), name="definition-list"),
    path(
        "definitions/<int:definition_id>/",
        apis.DefinitionDetailApi.as_view(),
        name="definition-detail",
    ),
    path(
        "definitions/<int:definition_id>/publish/",
        apis.DefinitionPublishApi.as_view(),
        name="definition-publish",
    ),
    path("auth/token/", apis.AuthTokenApi.as_view(), name="auth-token"),
]
