from typing import Any

from django.contrib import admin

from scoring.models import ScoringRule


@admin.register(ScoringRule)
class ScoringRuleAdmin(admin.ModelAdmin[Any]):
    list_display = ["name", "kind", "points", "event_type", "field", "operator", "is_active"]
    list_filter = ["kind", "is_active"]
