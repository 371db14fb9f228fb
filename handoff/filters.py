from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from handoff.choices import HANDOFF_STAGES, HandoffStatus
from handoff.models import Handoff
from leadflow.filters import IdFilter, StrictBooleanFilter, as_id


class HandoffFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=HandoffStatus.choices)
    stage = django_filters.MultipleChoiceFilter(
        choices=[(s.value, s.label) for s in HANDOFF_STAGES],
        help_text="The stage entered: mql and tql are answered (accept or reject); tal is the "
        "inside-sales rep's time to qualify.",
    )
    assignee = django_filters.CharFilter(method="filter_assignee", help_text="A user id, or 'me'.")
    breached = StrictBooleanFilter(field_name="breached_at", lookup_expr="isnull", exclude=True)
    team = IdFilter(field_name="team_id")

    class Meta:
        model = Handoff
        fields = ["stage", "status", "assignee", "breached", "team"]

    def filter_assignee(self, qs: QuerySet[Handoff], name: str, value: str) -> QuerySet[Handoff]:
        if value == "me":
            return qs.filter(assignee_id=self.request.user.pk if self.request else None)
        assignee_id = as_id(value)
        return qs.none() if assignee_id is None else qs.filter(assignee_id=assignee_id)
