"""Role scope of report figures (SPEC §7: a rep their own figures, a manager their teams)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from leads.models import Lead
from leads.selectors import lead_list, lead_visible_q


def lead_scope_sql(user: Any) -> tuple[str, list[Any]]:
    """An SQL condition on alias `l` (leads) limiting figures to what the user may read."""
    if lead_visible_q(user) is None:
        return "", []
    sql, params = Lead.objects.filter(lead_visible_q(user)).values("pk").query.sql_with_params()
    return f"AND l.id IN ({sql})", list(params)


def report_leads(user: Any) -> QuerySet[Lead]:
    return lead_list(user=user)
