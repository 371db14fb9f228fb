from django.urls import path

import leadflow.converters  # noqa: F401 - registers <id:>
from handoff import apis

urlpatterns = [
    path("handoffs/", apis.HandoffListApi.as_view(), name="handoff-list"),
    path(
        "handoffs/<id:handoff_id>/reassign/",
        apis.HandoffReassignApi.as_view(),
        name="handoff-reassign",
    ),
    path("assignment-rules/", apis.AssignmentRuleListApi.as_view(), name="assignment-rule-list"),
    path(
        "assignment-rules/<id:rule_id>/",
        apis.AssignmentRuleDetailApi.as_view(),
        name="assignment-rule-detail",
    ),
    path("webhooks/", apis.WebhookListApi.as_view(), name="webhook-list"),
    path("webhooks/<id:subscription_id>/", apis.WebhookDetailApi.as_view(), name="webhook-detail"),
    path(
        "webhooks/<id:subscription_id>/deliveries/",
        apis.WebhookDeliveryListApi.as_view(),
        name="webhook-deliveries",
    ),
]
