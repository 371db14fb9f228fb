from typing import Any

from django.contrib import admin

from handoff.models import (
    AssignmentRule,
    Handoff,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)


@admin.register(Handoff)
class HandoffAdmin(admin.ModelAdmin[Any]):
    list_display = [
        "id",
        "lead",
        "status",
        "team",
        "assignee",
        "due_at",
        "breached_at",
        "answered_at",
    ]
    list_filter = ["status", "team"]
    raw_id_fields = ["lead", "qualification"]
    list_select_related = ["lead", "team", "assignee"]


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(admin.ModelAdmin[Any]):
    list_display = ["position", "name", "field", "operator", "team", "rep", "is_active"]
    list_editable = ["is_active"]


class WebhookAttemptInline(admin.TabularInline[Any, Any]):
    model = WebhookAttempt
    extra = 0
    readonly_fields = ["attempted_at", "status_code", "error", "duration_ms"]


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin[Any]):
    """The signing secret is never shown: it is set (or replaced) through the UI or the API."""

    list_display = ["name", "url", "is_active", "created_at"]
    exclude = ["secret"]
    readonly_fields = ["url"]  # a destination is checked by the services (handoff.destinations)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin[Any]):
    list_display = [
        "id",
        "subscription",
        "event_type",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
    ]
    list_filter = ["status", "event_type"]
    inlines = [WebhookAttemptInline]


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(admin.ModelAdmin[Any]):
    list_display = ["delivery", "attempted_at", "status_code", "error", "duration_ms"]
    readonly_fields = ["delivery", "attempted_at", "status_code", "error", "duration_ms"]
