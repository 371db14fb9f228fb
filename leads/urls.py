from django.urls import path

import leadflow.converters  # noqa: F401 - registers <id:>
from leads import apis

urlpatterns = [
    path("intake/", apis.IntakeApi.as_view(), name="intake"),
    path("events/", apis.EventBatchApi.as_view(), name="events"),
    path("leads/", apis.LeadListApi.as_view(), name="lead-list"),
    path("leads/<id:lead_id>/", apis.LeadDetailApi.as_view(), name="lead-detail"),
    path("leads/<id:lead_id>/timeline/", apis.LeadTimelineApi.as_view(), name="lead-timeline"),
    path("leads/<id:lead_id>/activities/", apis.LeadActivityApi.as_view(), name="lead-activities"),
    path(
        "leads/<id:lead_id>/evaluation/", apis.LeadEvaluationApi.as_view(), name="lead-evaluation"
    ),
    path(
        "leads/<id:lead_id>/transitions/<str:name>/",
        apis.LeadTransitionApi.as_view(),
        name="lead-transition",
    ),
    path("definitions/", apis.DefinitionListApi.as_view(), name="definition-list"),
    path("definitions/schema/", apis.DefinitionSchemaApi.as_view(), name="definition-schema"),
    path(
        "definitions/<id:definition_id>/",
        apis.DefinitionDetailApi.as_view(),
        name="definition-detail",
    ),
    path(
        "definitions/<id:definition_id>/publish/",
        apis.DefinitionPublishApi.as_view(),
        name="definition-publish",
    ),
]
