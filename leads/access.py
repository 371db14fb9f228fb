"""Who may do what (SPEC §7, §13): the one module that answers, for the API, the UI, intake,
imports, jobs and the admin, whether a caller may

- reach a page or an endpoint (`may(user, Can.X)`, `permission(Can.X)` for DRF);
- read a lead, a handoff, a figure (`reach(user)` and the filters built from it);
- write a field of a lead in its state (`editable_fields`, `intake_fields`, `fill_only`);
- run a transition on a lead (the `may_*` callables the lifecycle names as each transition's
  `permission`).

Roles are memberships of the Django groups in `leadflow.choices.Role`; superusers hold every one.
`tests/leads/test_access_table.py` reads SPEC §7's table (and the "who may" of §2 and §13) and
checks every cell against this module.

Writes: callers are a signed-in user (by role), an integration's API key, or an anonymous visitor
of a public web form. Edits (PATCH, the UI) ask for fields and are refused (403) if one is not the
caller's; intakes (create-or-update, forms, imports) write the caller's fields and leave the rest
as they are (SPEC §15 "One set of write rules").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from django.db.models import Q

from accounts.selectors import inside_sales_team_ids, managed_team_ids, rep_team_ids
from leadflow.choices import Role
from leadflow.permissions import GRANTS, Can, may, permission, roles_of
from leads.choices import LeadState

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from leadflow.types import Caller
    from leads.models import Lead

# What a role may use regardless of any lead lives in `leadflow.permissions` (the base layer's
# jobs need it too); it is re-exported here so that callers ask one module.
__all__ = ["GRANTS", "Can", "may", "permission"]  # the re-exports (the rest is defined here)

S = LeadState
R = Role
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
INSIDE_SALES_STATES = frozenset({S.TAL})
# Past the point where intake may still fill what sales hears: inside or field sales has it.
PAST_MQL = frozenset({S.TAL, S.TQL, S.SAL, S.SQL, S.WON, S.LOST})


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """What a user may read (SPEC §7 "read leads", "dashboard"): everything (marketing, the
    COO), or a rep's own rows and their teams' handed-off ones, a manager's teams'."""

    everything: bool
    user_id: int | None = None
    rep_teams: frozenset[int] = frozenset()  # set only for a rep
    managed_teams: frozenset[int] = frozenset()  # set only for a manager
    is_rep: bool = False
    is_manager: bool = False


def reach(user: Caller | None) -> Reach:
    roles = roles_of(user)
    if roles & {R.MARKETING, R.COO}:  # superusers hold both
        return Reach(everything=True)
    # A rep of field sales or of inside sales: what they hold and their team's (SPEC §7, §13).
    rep, manager = bool(roles & {R.SALES, R.INSIDE_SALES}), R.SALES_MANAGER in roles
    return Reach(
        everything=False,
        user_id=getattr(user, "pk", None),
        rep_teams=rep_team_ids(user) if rep else frozenset(),
        managed_teams=managed_team_ids(user) if manager else frozenset(),
        is_rep=rep,
        is_manager=manager,
    )


def scope_q(user: Caller, *, owner: str, team: str) -> Q | None:
    """The read scope over rows with an owner and a team field (leads: owner and team;
    handoffs: assignee and team); None means every row. A rep reads what they own and their
    teams'; a manager their teams' and their own; a caller with no role nothing."""
    r = reach(user)
    if r.everything:
        return None
    q = Q(pk__in=[])
    if r.is_rep or r.is_manager:
        q |= Q(**{owner: r.user_id})
    if r.rep_teams or r.managed_teams:
        q |= Q(**{f"{team}__in": r.rep_teams | r.managed_teams})
    return q


def is_rep(user: Caller | None) -> bool:
    """A rep (field or inside sales): the lead they accept, claim or source becomes theirs."""
    return user is not None and bool(roles_of(user) & {R.SALES, R.INSIDE_SALES})


class Visitor:
    """An anonymous visitor of a public web form."""


class IntegrationKey:
    """An integration's `intake` API key."""


VISITOR, KEY = Visitor(), IntegrationKey()
if TYPE_CHECKING:
    # Who an intake writes for: a signed-in user, an integration's key, a form's visitor (None:
    # the system, as a key).
    IntakeCaller: TypeAlias = User | IntegrationKey | Visitor | None


def editable_fields(lead: Lead, user: Caller) -> frozenset[str]:
    """The fields a signed-in user may edit on this lead in its state."""
    roles = roles_of(user)
    if R.COO in roles:  # superusers hold it
        return ALL_FIELDS
    fields: set[str] = set()
    if R.MARKETING in roles and lead.state in MARKETING_STATES:
        fields |= MARKETING_FIELDS | {"email"}
    r = reach(user)
    if lead.state in SALES_STATES and (
        (R.SALES in roles and lead.owner_id == user.pk) or lead.team_id in r.managed_teams
    ):
        fields |= ALL_FIELDS
    if lead.state in INSIDE_SALES_STATES and (
        (R.INSIDE_SALES in roles and lead.owner_id == user.pk) or lead.team_id in r.managed_teams
    ):
        fields |= ALL_FIELDS
    return frozenset(fields)


def intake_fields(lead: Lead, caller: IntakeCaller) -> frozenset[str]:
    """The fields an intake (API, web form, import) may write on an existing lead: marketing's
    fields, and the sales fields only before the lead is past MQL, each only where its caller
    may write it. A web form's visitor may only fill what is empty (`fill_only`)."""
    sales = SALES_FIELDS if lead.state not in PAST_MQL else frozenset()
    if caller is None or isinstance(caller, Visitor | IntegrationKey):
        return MARKETING_FIELDS | sales
    return editable_fields(lead, caller) & (MARKETING_FIELDS | sales)


def fill_only(caller: IntakeCaller) -> bool:
    """Whether the caller only fills empty fields (an anonymous form never overwrites)."""
    return isinstance(caller, Visitor)


# --- transitions (the lifecycle's `permission` callables: (lead, user) -> bool; django-fsm-2
# types them as taking any model and any kind of user, hence `Any`) ---------------


def _is_assigned(lead: Any, user: Any) -> bool:
    """The caller is the lead's rep, a rep of its team, or a manager of its team."""
    r = reach(user)
    if user.is_superuser:
        return True
    if r.is_rep and (
        (lead.owner_id is not None and lead.owner_id == user.pk) or lead.team_id in r.rep_teams
    ):
        return True
    return lead.team_id is not None and lead.team_id in r.managed_teams


def _owns(lead: Any, user: Any) -> bool:
    """The caller is the lead's own rep, or a manager of its team."""
    r = reach(user)
    if user.is_superuser:
        return True
    if r.is_rep and lead.owner_id is not None and lead.owner_id == user.pk:
        return True
    return lead.team_id is not None and lead.team_id in r.managed_teams


def may_qualify_mql(lead: Any, user: Any) -> bool:
    return bool(roles_of(user) & {R.MARKETING, R.COO})


def may_answer_handoff(lead: Any, user: Any) -> bool:
    return _is_assigned(lead, user)


def may_claim(lead: Any, user: Any) -> bool:
    return user.is_superuser or (
        bool(roles_of(user) & {R.SALES, R.SALES_MANAGER})
        and (lead.owner_id in (None, user.pk) or _is_assigned(lead, user))
    )


def may_qualify_sql(lead: Any, user: Any) -> bool:
    return R.COO in roles_of(user) or _owns(lead, user)


def may_work_own(lead: Any, user: Any) -> bool:
    return _owns(lead, user)


def may_marketing(lead: Any, user: Any) -> bool:
    return may(user, Can.ARCHIVE)


def may_is_work(lead: Any, user: Any) -> bool:
    """Inside sales' own work on a lead (is_accept, qualify_tql, is_disqualify): an IS rep on a
    lead handed to them or their team, or a manager of its team (SPEC §13)."""
    if user.is_superuser:
        return True
    r = reach(user)
    if R.INSIDE_SALES in roles_of(user) and (
        (lead.owner_id is not None and lead.owner_id == user.pk) or lead.team_id in r.rep_teams
    ):
        return True
    return lead.team_id in r.managed_teams and lead.team_id in inside_sales_team_ids()


def may_is_claim(lead: Any, user: Any) -> bool:
    """An IS rep claims a lead they generated (TGL)."""
    return user.is_superuser or (
        R.INSIDE_SALES in roles_of(user) and lead.owner_id in (None, user.pk)
    )


# --- handoffs ---------------------------------------------------------------------------------


def reassign_teams(user: Caller) -> frozenset[int] | None:
    """The teams whose open handoffs the user may re-assign, each to a rep of the same team;
    None: any handoff, to any team's rep (the COO)."""
    if R.COO in roles_of(user):
        return None
    return reach(user).managed_teams
