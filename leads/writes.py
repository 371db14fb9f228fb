"""Which fields of a lead a caller may write, in which state (SPEC §7, §15 "One set of write
rules"): one rule for every path that writes a lead (PATCH, the UI's forms, intake by a user's
token or an API key, public web forms, CSV import).

Callers are a signed-in user (by role), an integration's API key, or an anonymous visitor of a
public web form. Edits (PATCH, the UI) ask for fields and are refused (403) if one is not the
caller's; intakes (create-or-update, forms, imports) write the caller's fields and leave the rest
as they are."""

from __future__ import annotations

from typing import Any

from accounts.selectors import managed_team_ids
from leadflow.choices import Role
from leadflow.permissions import roles_of
from leads.choices import LeadState

S = LeadState
# The lead's writable fields, in the order the API and the UI show them: the one list the
# serializers, the criteria's field types and these rules are made from.
# Who the lead is and where it came from: what marketing, forms and integrations know.
MARKETING_FIELD_ORDER = (
    "first_name", "last_name", "first_name_kana", "last_name_kana", "company", "department",
    "title", "phone", "industry", "company_size", "country", "website", "source", "campaign",
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "consent",
    "attributes",
)  # fmt: skip
# What sales hears when qualifying (the SQL criteria read them).
SALES_FIELD_ORDER = ("budget", "decision_maker", "timeline", "need")
MARKETING_FIELDS = frozenset(MARKETING_FIELD_ORDER)
SALES_FIELDS = frozenset(SALES_FIELD_ORDER)
ALL_FIELDS = MARKETING_FIELDS | SALES_FIELDS | {"email"}
MARKETING_STATES = frozenset({S.LEAD, S.RECYCLED})
SALES_STATES = frozenset({S.SAL, S.SQL})
PAST_MQL = frozenset({S.SAL, S.SQL, S.WON, S.LOST})


class Visitor:
    """An anonymous visitor of a public web form."""


class IntegrationKey:
    """An integration's `intake` API key."""


VISITOR, KEY = Visitor(), IntegrationKey()


def editable_fields(lead: Any, user: Any) -> frozenset[str]:
    """The fields a signed-in user may edit on this lead in its state."""
    roles = roles_of(user)
    if user.is_superuser or Role.COO in roles:
        return ALL_FIELDS
    fields: set[str] = set()
    if Role.MARKETING in roles and lead.state in MARKETING_STATES:
        fields |= MARKETING_FIELDS | {"email"}
    if lead.state in SALES_STATES and (
        (Role.SALES in roles and lead.owner_id == user.pk)
        or (Role.SALES_MANAGER in roles and lead.team_id in managed_team_ids(user))
    ):
        fields |= ALL_FIELDS
    return frozenset(fields)


def intake_fields(lead: Any, caller: Any) -> frozenset[str]:
    """The fields an intake (API, web form, import) may write on an existing lead: marketing's
    fields, and the sales fields only before the lead is past MQL, each only where its caller
    may write it. A web form's visitor may only fill what is empty (`fill_only`)."""
    sales = SALES_FIELDS if lead.state not in PAST_MQL else frozenset()
    if caller is VISITOR or caller is KEY or caller is None:
        return MARKETING_FIELDS | sales
    return editable_fields(lead, caller) & (MARKETING_FIELDS | sales)


def fill_only(caller: Any) -> bool:
    """Whether the caller only fills empty fields (an anonymous form never overwrites)."""
    return caller is VISITOR
