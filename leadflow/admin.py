from typing import Any

from django.contrib import admin

from leadflow.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin[Any]):
    list_display = ["id", "kind", "status", "progress", "created_by", "created_at", "finished_at"]
    list_filter = ["kind", "status"]
    readonly_fields = ["kind", "status", "progress", "params", "result", "error", "created_by",
                       "started_at", "finished_at"]  # fmt: skip
