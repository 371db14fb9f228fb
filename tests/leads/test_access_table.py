"""SPEC §7's role table, read from the SPEC itself, against `leads.access` (and the API that asks
it): every cell of the table becomes a test.

Each cell's text is looked up in `CELLS`, which says what that text means as a check over a small
world: leads in every state, owned by reps of two teams, by nobody, or by no team. A cell whose
text is not in `CELLS` (the SPEC changed) fails until someone writes down what it means. The
transitions row refers to §2's table, which is read the same way: who may run each transition, and
the COO's override of the two qualifying ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.selectors import inside_sales_team_ids, managed_team_ids, rep_team_ids
from analytics.selectors import report_leads
from handoff.models import Handoff
from leadflow.choices import Role
from leads import access
from leads.choices import LeadState
from leads.lifecycle import EDGES
from leads.models import Lead
from leads.selectors import lead_list
from tests.factories import make_lead

SPEC = Path(__file__).resolve().parents[3] / "shared" / "SPEC.md"
S = LeadState


def _section(number: int) -> str:
    text = SPEC.read_text(encoding="utf-8")
    start = text.index(f"\n## {number}. ")
    end = text.find("\n## ", start + 1)
    return text[start:end]


def _table(section: str) -> list[list[str]]:
    """The first markdown table of a section, as rows of stripped cells (the header first)."""
    rows = [line for line in section.splitlines() if line.startswith("|")]
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
    return [row for row in cells if not all(set(c) <= {"-", ":"} for c in row)]


def _roles_table() -> tuple[list[str], dict[str, dict[str, str]]]:
    header, *rows = _table(_section(7))
    roles = header[1:]
    return roles, {row[0]: dict(zip(roles, row[1:], strict=True)) for row in rows}


ROLES, TABLE = _roles_table()
CASES = [(row, role, cell) for row, by_role in TABLE.items() for role, cell in by_role.items()]


# §13's words for who may, as roles: an IS team's manager is a `sales_manager` of an IS team.
IS_WORDS = {"inside_sales": "inside_sales", "inside_sales (own leads)": "inside_sales",
            "IS team's manager": "sales_manager", "IS manager": "sales_manager"}  # fmt: skip


def _who_may() -> dict[str, set[str]]:
    """§2, then §13 for the transitions §2 does not have: transition -> the roles its "who may"
    column names (the system is not a role)."""
    out: dict[str, set[str]] = {}
    for section in (2, 13):
        _, *rows = _table(_section(section))
        for row in rows:
            name = row[0].strip("`")
            if name in out:
                continue  # §13's reject and accept from tql are §2's roles again
            words = {w.strip() for w in row[2].split(",")}
            out[name] = {IS_WORDS.get(w, w) for w in words} & set(Role.values)
    return out


def _overridable() -> set[str]:
    """§2: the transitions the COO may force ("`coo` may force `qualify_mql` / `qualify_sql`")."""
    line = next(x for x in _section(2).splitlines() if x.startswith("* `coo` may force"))
    return set(re.findall(r"`(\w+)`", line.split("may force", 1)[1].split(";")[0]))


WHO_MAY = _who_may()
IS_OWN = {"is_accept", "qualify_tql", "is_disqualify", "is_claim"}
OVERRIDE = _overridable()
USER_FOR_ROLE = {"marketing": "marketing", "sales": "rep_a", "sales_manager": "manager_a",
                 "coo": "coo"}  # fmt: skip


@pytest.fixture
def world(users: dict[str, Any], db: Any) -> list[Lead]:
    """A lead in every state for each kind of holder: rep A, another rep of team A, rep B, team
    A with no rep yet, nobody; and a recycled lead once handed to rep A (their figures keep it)."""
    team_a = next(iter(rep_team_ids(users["rep_a"])))
    team_b = next(iter(rep_team_ids(users["rep_b"])))
    holders = [
        (users["rep_a"].pk, team_a),
        (users["rep_a2"].pk, team_a),
        (users["rep_b"].pk, team_b),
        (None, team_a),
        (None, None),
    ]
    leads = []
    for i, state in enumerate(S.values):
        for j, (owner, team) in enumerate(holders):
            lead = make_lead(email=f"w{i}-{j}@example.jp")
            Lead.objects.filter(pk=lead.pk).update(state=state, owner_id=owner, team_id=team)
            leads.append(Lead.objects.get(pk=lead.pk))
    handed = make_lead(email="handed@example.jp")
    Lead.objects.filter(pk=handed.pk).update(state=S.RECYCLED)
    now = timezone.now()
    Handoff.objects.create(
        lead=handed, team_id=team_a, assignee=users["rep_a"], status="rejected",
        due_at=now + timedelta(hours=1), warn_at=now, answered_at=now,
    )  # fmt: skip
    leads.append(Lead.objects.get(pk=handed.pk))
    return leads


def _teams(user: Any) -> frozenset[int]:
    return rep_team_ids(user) | managed_team_ids(user)


# --- what each cell's text means --------------------------------------------------------------------

Check = Callable[[Any, list[Lead]], None]


def _reads(want: Callable[[Any, Lead], bool]) -> Check:
    def check(user: Any, leads: list[Lead]) -> None:
        visible = set(lead_list(user=user).values_list("pk", flat=True))
        for lead in leads:
            assert (lead.pk in visible) == want(user, lead), (
                lead.state,
                lead.owner_id,
                lead.team_id,
            )

    return check


def _edits(want: Callable[[Any, Lead], frozenset[str]]) -> Check:
    def check(user: Any, leads: list[Lead]) -> None:
        for lead in leads:
            assert access.editable_fields(lead, user) == want(user, lead), (
                lead.state, lead.owner_id, lead.team_id,
            )  # fmt: skip

    return check


SALES_ASKS = {"budget", "timeline", "decision_maker"}


def _own_sales_edit(user: Any, lead: Lead) -> frozenset[str]:
    own = lead.owner_id == user.pk and lead.state in (S.SAL, S.SQL)
    assert SALES_ASKS <= access.ALL_FIELDS
    return access.ALL_FIELDS if own else frozenset()


def _team_sales_edit(user: Any, lead: Lead) -> frozenset[str]:
    """What the team's reps may edit: field sales their SAL/SQL, inside sales their TAL."""
    team = lead.team_id in managed_team_ids(user) and lead.state in (S.SAL, S.SQL, S.TAL)
    return access.ALL_FIELDS if team else frozenset()


def _runs(scope: Callable[[str, Any, Lead], bool], role: str, *, override: bool = False) -> Check:
    """§2's "who may" for `role`, on the leads `scope` admits; with `override`, also the
    transitions the COO may force."""

    def check(user: Any, leads: list[Lead]) -> None:
        for (name, source), _target in EDGES.items():
            allowed = role in WHO_MAY[name] or (override and name in OVERRIDE)
            for lead in (x for x in leads if x.state == source):
                edge = next(
                    t for t in lead.get_all_state_transitions()  # type: ignore[attr-defined]
                    if t.name == name and t.source == source
                )  # fmt: skip
                want = allowed and scope(name, user, lead)
                assert edge.has_perm(lead, user) == want, (name, lead.owner_id, lead.team_id)

    return check


def _own_leads(name: str, user: Any, lead: Lead) -> bool:
    """A rep's own: for the handoff's answer (accept, reject) the lead handed to them or their
    team; for a claim an SGL nobody else holds; otherwise the lead they own."""
    if name in ("accept", "reject"):
        return lead.owner_id == user.pk or lead.team_id in rep_team_ids(user)
    if name == "claim":
        return lead.owner_id in (None, user.pk) or lead.team_id in rep_team_ids(user)
    return lead.owner_id == user.pk


def _team_leads(name: str, user: Any, lead: Lead) -> bool:
    """A manager's: their teams' leads; inside sales' own transitions only on an IS team's."""
    if name == "claim" and lead.owner_id in (None, user.pk):
        return True
    if name in IS_OWN:
        return lead.team_id in managed_team_ids(user) & inside_sales_team_ids()
    return lead.team_id in managed_team_ids(user)


def _everyone(name: str, user: Any, lead: Lead) -> bool:
    return True


def _uses(read: str, write: str | None) -> Callable[[str], Check]:
    """Through the API: `read` (GET) answers 200; `write` (POST of an empty body) is refused by
    the permission (403) when the cell says read, and reaches validation (400) when it says edit."""

    def cell(can_write: str) -> Check:
        def check(user: Any, leads: list[Lead]) -> None:
            client = APIClient()
            client.force_authenticate(user)
            assert client.get(read).status_code == 200
            if write is not None:
                status = client.post(write, {}, format="json").status_code
                assert status == (400 if can_write == "edit" else 403)

        return check

    return cell


def _figures(want: Callable[[Any, Lead], bool] | None) -> Check:
    def check(user: Any, leads: list[Lead]) -> None:
        counted = set(report_leads(user).values_list("pk", flat=True))
        for lead in leads:
            expected = True if want is None else want(user, lead)
            assert (lead.pk in counted) == expected, (lead.state, lead.owner_id, lead.team_id)

    return check


def _handed_to(user: Any, lead: Lead) -> bool:
    return Handoff.objects.filter(lead=lead, assignee=user).exists()


def _handed_to_team(user: Any, lead: Lead) -> bool:
    return Handoff.objects.filter(lead=lead, team_id__in=managed_team_ids(user)).exists()


rules = _uses("/api/v1/scoring-rules/", "/api/v1/scoring-rules/")
definitions = _uses("/api/v1/definitions/", "/api/v1/definitions/")
CELLS: dict[tuple[str, str], Check] = {
    ("read leads", "all"): _reads(lambda u, lead: True),
    ("read leads", "own + own team's handed-off leads"): _reads(
        lambda u, lead: lead.owner_id == u.pk or lead.team_id in rep_team_ids(u)
    ),
    ("read leads", "team"): _reads(
        lambda u, lead: lead.team_id in managed_team_ids(u) or lead.owner_id == u.pk
    ),
    ("edit lead fields", "lead, recycled"): _edits(
        lambda u, lead: (
            access.MARKETING_FIELDS | {"email"}
            if lead.state in (S.LEAD, S.RECYCLED)
            else frozenset()
        )
    ),
    ("edit lead fields", "own sal/sql (incl. budget, timeline, decision_maker)"): _edits(
        _own_sales_edit
    ),
    ("edit lead fields", "team"): _edits(_team_sales_edit),
    ("edit lead fields", "all"): _edits(lambda u, lead: access.ALL_FIELDS),
    ("transitions", "per §2"): _runs(_everyone, "marketing"),
    ("transitions", "per §2, own leads"): _runs(_own_leads, "sales"),
    ("transitions", "per §2, team"): _runs(_team_leads, "sales_manager"),
    ("transitions", "per §2 + override"): _runs(_everyone, "coo", override=True),
    ("scoring rules", "edit"): rules("edit"),
    ("scoring rules", "read"): rules("read"),
    ("definitions", "read"): definitions("read"),
    ("definitions", "edit, publish, backtest"): definitions("edit"),
    ("dashboard", "read"): _figures(None),
    ("dashboard", "all"): _figures(None),
    ("dashboard", "own figures"): _figures(
        lambda u, lead: lead.owner_id == u.pk or _handed_to(u, lead)
    ),
    ("dashboard", "team"): _figures(
        lambda u, lead: lead.team_id in managed_team_ids(u) or _handed_to_team(u, lead)
    ),
}


def test_the_table_names_exactly_the_roles_there_are() -> None:
    assert set(ROLES) == set(USER_FOR_ROLE)
    assert set(ROLES) <= set(Role.values)
    assert len(CASES) == len(TABLE) * len(ROLES) >= 24


@pytest.mark.parametrize(("row", "role", "cell"), CASES, ids=[f"{r}|{o}" for r, o, _ in CASES])
def test_each_cell_of_spec_7_holds(
    row: str, role: str, cell: str, users: dict[str, Any], world: list[Lead]
) -> None:
    check = CELLS.get((row, cell))
    assert check is not None, f"SPEC §7 says {cell!r} for {role} / {row}: say what it means here"
    check(users[USER_FOR_ROLE[role]], world)


def test_the_role_only_grants_are_what_the_table_says(users: dict[str, Any]) -> None:
    """The rows that do not depend on a lead, as `may` answers them (the UI's pages and the
    API's permission classes ask it)."""
    rules_row, definitions_row = TABLE["scoring rules"], TABLE["definitions"]
    for role, who in USER_FOR_ROLE.items():
        user = users[who]
        assert access.may(user, access.Can.READ)
        assert access.may(user, access.Can.EDIT_RULES) == (rules_row[role] == "edit")
        assert access.may(user, access.Can.DEFINE) == ("publish" in definitions_row[role])
        assert access.may(user, access.Can.OVERRIDE) == ("override" in TABLE["transitions"][role])
        assert access.reach(user).everything == (TABLE["read leads"][role] == "all")


def test_a_superuser_may_do_everything(world: list[Lead], django_user_model: Any) -> None:
    root = django_user_model.objects.create_superuser("root", "root@example.jp", "pw-root-1")
    assert all(access.may(root, can) for can in access.Can)
    assert access.reach(root).everything
    assert lead_list(user=root).count() == len(world)
    assert all(access.editable_fields(lead, root) == access.ALL_FIELDS for lead in world)


def test_a_user_without_a_role_may_do_nothing(world: list[Lead], django_user_model: Any) -> None:
    nobody = django_user_model.objects.create_user("nobody", "nobody@example.jp", "pw-none-1")
    assert not any(access.may(nobody, can) for can in access.Can)
    assert not lead_list(user=nobody).exists()
    assert not report_leads(nobody).exists()
    assert all(access.editable_fields(lead, nobody) == frozenset() for lead in world)
    assert _teams(nobody) == frozenset()
