from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from leads.models import (
    Definition,
    Event,
    IdempotencyRecord,
    Lead,
    LeadChange,
    LeadScore,
    LeadTransition,
    RescoreMark,
    StageDelta,
    StageEntry,
    StageRollup,
)


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Append-only records: operators may look, never edit."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LeadTransitionInline(admin.TabularInline[Any, Any]):
    model = LeadTransition
    fk_name = "lead"
    extra = 0
    can_delete = False
    fields = (
        "occurred_at",
        "transition",
        "from_state",
        "to_state",
        "actor",
        "actor_kind",
        "reason",
        "definition",
    )
    readonly_fields = fields
    ordering = ["-occurred_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Lead)
class LeadAdmin(ReadOnlyAdmin):
    """Operators look up leads here; they are written through the services only (the API, the
    UI, intake, imports), which normalise, score, record and apply the write rules."""

    list_display = ["email", "company", "state", "source", "owner", "team", "created_at"]
    list_filter = ["state", "source", "responsible", "team"]
    search_fields = ["email", "company", "last_name", "first_name"]
    # The lifecycle is changed only by transitions, never here.
    readonly_fields = [
        "state", "responsible", "owner", "team", "definition", "state_changed_at",
        "recycle_count", "recycle_reason", "recyclable_at", "won_amount", "lost_reason",
        "archive_reason", "fit_score", "engagement_score", "score", "created_by",
    ]  # fmt: skip
    inlines = [LeadTransitionInline]
    list_select_related = ["owner", "team"]


@admin.register(LeadTransition)
class LeadTransitionAdmin(ReadOnlyAdmin):
    list_display = [
        "occurred_at",
        "lead",
        "transition",
        "from_state",
        "to_state",
        "actor",
        "actor_kind",
    ]
    list_filter = ["transition", "to_state", "actor_kind"]
    list_select_related = ["lead", "actor"]


@admin.register(LeadChange)
class LeadChangeAdmin(ReadOnlyAdmin):
    list_display = ["lead", "via", "actor", "occurred_at"]
    list_filter = ["via"]
    raw_id_fields = ["lead", "actor"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin[Any]):
    list_display = ["occurred_at", "lead", "type", "external_id"]
    list_filter = ["type"]
    raw_id_fields = ["lead"]
    list_select_related = ["lead"]
    ordering = ["-id"]  # newest received first, by the key: no sort of every event
    show_full_result_count = False  # no count of every event per page


@admin.register(Definition)
class DefinitionAdmin(admin.ModelAdmin[Any]):
    list_display = ["id", "name", "status", "published_at", "retired_at"]
    list_filter = ["status"]
    readonly_fields = ["status", "published_at", "retired_at"]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "client", "key", "response_status"]


@admin.register(LeadScore)
class LeadScoreAdmin(ReadOnlyAdmin):
    list_display = ["lead", "fit", "engagement", "total", "version"]
    list_select_related = ["lead"]


@admin.register(RescoreMark)
class RescoreMarkAdmin(ReadOnlyAdmin):
    """The leads waiting for a rescore; the oldest mark's age is the scoring lag."""

    list_display = ["marked_at", "lead"]
    list_select_related = ["lead"]
    ordering = ["id"]  # oldest first, by the key


@admin.register(StageEntry)
class StageEntryAdmin(ReadOnlyAdmin):
    list_display = ["lead", "stage", "reentry", "entered_at", "left_at", "next_state"]
    list_filter = ["stage", "reentry"]
    list_select_related = ["lead"]


@admin.register(StageRollup)
class StageRollupAdmin(ReadOnlyAdmin):
    list_display = ["day", "dimension", "key", "stage", "reentry", "bucket", "entries", "converted"]
    list_filter = ["dimension", "stage", "reentry"]
    date_hierarchy = "day"


@admin.register(StageDelta)
class StageDeltaAdmin(ReadOnlyAdmin):
    list_display = ["day", "stage", "reentry", "bucket", "entries", "converted", "source"]
