from typing import Any

from django.contrib import admin
from rest_framework.authtoken.admin import TokenAdmin as _DrfTokenAdmin
from rest_framework.authtoken.models import TokenProxy
from rest_framework_api_key.admin import APIKeyModelAdmin

from accounts.models import ApiKey, Profile, Team, TeamMembership


class TeamMembershipInline(admin.TabularInline[Any, Any]):
    model = TeamMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Any]):
    list_display = ["name", "function", "created_at"]
    list_filter = ["function"]
    search_fields = ["name"]
    inlines = [TeamMembershipInline]


@admin.register(TeamMembership)
class TeamMembershipAdmin(admin.ModelAdmin[Any]):
    list_display = ["user", "team", "role", "is_available"]
    list_filter = ["role", "is_available", "team"]
    autocomplete_fields = ["user", "team"]


@admin.register(ApiKey)
class ApiKeyAdmin(APIKeyModelAdmin):
    list_display = (*APIKeyModelAdmin.list_display, "scope")  # type: ignore[assignment]
    list_filter = (*APIKeyModelAdmin.list_filter, "scope")  # type: ignore[assignment]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin[Any]):
    list_display = ["user", "language"]
    list_filter = ["language"]
    autocomplete_fields = ["user"]


# DRF's token admin lists every user's full token key; here only its first characters show.
admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class TokenAdmin(_DrfTokenAdmin):
    list_display = ("masked_key", "user", "created")
    fields = ("user",)

    @admin.display(description="key")
    def masked_key(self, token: TokenProxy) -> str:
        return f"{token.key[:6]}…"

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
