from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from rest_framework.filters import OrderingFilter

from leadflow.filters import BoundedNumberFilter, IdFilter, as_id
from leads.choices import LeadState, Source
from leads.models import Lead


class LeadFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=LeadState.choices)
    source = django_filters.MultipleChoiceFilter(choices=Source.choices)
    campaign = django_filters.CharFilter()
    owner = django_filters.CharFilter(method="filter_owner", help_text="A user id, or 'me'.")
    team = IdFilter(field_name="team_id")
    min_score = BoundedNumberFilter(field_name="scores__total", lookup_expr="gte")
    q = django_filters.CharFilter(method="filter_q", help_text="Name, e-mail or company.")

    class Meta:
        model = Lead
        fields = ["state", "source", "campaign", "owner", "team", "min_score", "q"]

    # A form's "any" option sends an empty value: it means no filter on that field, not a
    # choice that does not exist.
    MULTIPLE = ("state", "source")

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        if data is not None and any("" in data.getlist(k) for k in self.MULTIPLE):
            data = data.copy()
            for key in self.MULTIPLE:
                data.setlist(key, [v for v in data.getlist(key) if v])
        super().__init__(data, *args, **kwargs)

    def filter_owner(self, qs: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        if value == "me":
            return qs.filter(owner_id=self.request.user.pk if self.request else None)
        if value == "none":
            return qs.filter(owner__isnull=True)
        owner_id = as_id(value)
        return qs.none() if owner_id is None else qs.filter(owner_id=owner_id)

    def filter_q(self, qs: QuerySet[Lead], name: str, value: Any) -> QuerySet[Lead]:
        from leads.normalize import nfkc

        term = nfkc(str(value))[:100]
        if not term:
            return qs
        return qs.filter(
            Q(email__icontains=term.lower())
            | Q(company__icontains=term)
            | Q(last_name__icontains=term)
            | Q(first_name__icontains=term)
            | Q(last_name_kana__icontains=term)
            | Q(first_name_kana__icontains=term)
        )


class LeadOrderingFilter(OrderingFilter):
    """`ordering=score` sorts on the score row (annotated as `score_total` by `lead_list`)."""

    aliases = {"score": "score_total", "win_probability": "score_win"}

    def get_ordering(self, request: Any, queryset: Any, view: Any) -> Any:
        ordering = super().get_ordering(request, queryset, view)
        if not ordering:
            return ordering
        return [
            ("-" if term.startswith("-") else "")
            + self.aliases.get(term.lstrip("-"), term.lstrip("-"))
            for term in ordering
        ]
