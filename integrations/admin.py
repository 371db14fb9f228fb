from typing import Any

from django.contrib import admin

from integrations.models import CsvImport, CsvImportChunk, WebForm, WebFormSubmission


@admin.register(WebForm)
class WebFormAdmin(admin.ModelAdmin[Any]):
    list_display = ["name", "public_key", "source", "campaign", "is_active", "created_at"]
    list_filter = ["is_active", "source"]
    search_fields = ["name", "campaign"]
    readonly_fields = ["public_key"]


@admin.register(WebFormSubmission)
class WebFormSubmissionAdmin(admin.ModelAdmin[Any]):
    list_display = ["submitted_at", "form", "lead", "created", "origin", "ip"]
    list_filter = ["created", "form"]
    list_select_related = ["form", "lead"]
    raw_id_fields = ["lead"]


@admin.register(CsvImport)
class CsvImportAdmin(admin.ModelAdmin[Any]):
    list_display = ["created_at", "file_name", "kind", "row_count", "job", "created_by"]
    list_filter = ["kind"]
    exclude = ["sample"]
    readonly_fields = ["job", "headers", "row_count", "encoding"]


@admin.register(CsvImportChunk)
class CsvImportChunkAdmin(admin.ModelAdmin[Any]):
    list_display = ["csv_import", "first_row"]
    raw_id_fields = ["csv_import"]
