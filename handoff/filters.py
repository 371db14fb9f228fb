from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from handoff.choices import HandoffStatus
from handoff.models import Handoff


class HandoffFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=HandoffStatus.choices)
    assignee = django_filters.CharFilter(method="filter_assignee", help_text="A user id, or 'me'.")
    breached = django_filters.BooleanFilter(
        field_name="breached_at", lookup_expr="isnull", exclude=True
    )
    team = django_filters.NumberFilter(field_name="team_id")

    class Meta:
        model = Handoff
        fields = ["status", "assignee", "breached", "team"]

    def filter_assignee(self, qs: QuerySet[Handoff], name: str, value: str) -> QuerySet[Handoff]:
        if value == "me":
            return qs.filter(assignee_id=self.request.user.pk if self.request else None)
        return qs.filter(assignee_id=int(value)) if value.isdigit() else qs.none()
