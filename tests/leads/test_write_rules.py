"""One set of write rules (SPEC §7, §15), the same on every path that writes a lead: PATCH, the
UI's form, intake by a user's token, intake by an API key, a public web form and a CSV import.
Every (path, caller, state) case checks every kind of field against the specification's table,
written out here independently of `leads.writes`."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Team
from integrations.services.webforms import WebFormInput, webform_create
from leads.models import Lead
from tests.factories import advance, make_lead, make_mql

STATES = ["lead", "mql", "sal", "sql", "won", "recycled"]
CALLERS = ["marketing", "rep_a", "rep_a2", "manager_a", "rep_b", "coo", "key", "visitor"]
PATHS = ["patch", "ui", "intake_token", "intake_key", "form", "import"]
BEFORE = {"company": "Old KK", "department": "", "budget": Decimal(100), "decision_maker": True,
          "need": "old need"}  # fmt: skip
AFTER = {"company": "New KK", "department": "営業部", "budget": Decimal(999),
         "decision_maker": False, "need": "new need"}  # fmt: skip
SALES = {"budget", "decision_maker", "need"}
PAST_MQL = {"sal", "sql", "won", "lost"}


def spec_may_edit(caller: str, state: str, field: str) -> bool:
    """SPEC §7's table: who edits which fields of a team-A lead owned by rep_a, by state."""
    if caller == "coo":
        return True
    if caller == "marketing":
        return state in ("lead", "recycled") and field not in SALES
    if caller == "rep_a":  # the owner
        return state in ("sal", "sql")
    if caller == "manager_a":
        return state in ("sal", "sql")
    return False  # a teammate who does not own it, another team's rep, machines, visitors


def spec_intake_writes(caller: str, state: str, field: str) -> bool:
    """SPEC §15: an intake writes marketing's fields, sales fields only up to MQL, each only
    where its caller may; a key writes what an integration knows; a visitor fills empties."""
    if field in SALES and state in PAST_MQL:
        return False
    if caller == "visitor":
        return BEFORE[field] in ("", None)
    if caller == "key":
        return True
    return spec_may_edit(caller, state, field)


def readable(caller: str, state: str) -> bool:
    if caller in ("marketing", "coo"):
        return True
    if state in ("lead", "recycled"):  # nobody's in sales yet
        return False
    return caller in ("rep_a", "rep_a2", "manager_a")


@pytest.fixture
def lead_in(users: Any, published_definition: Any) -> Any:
    team_a = Team.objects.get(name="Team A")

    def make(state: str) -> Lead:
        fields = {**BEFORE, "email": f"w-{state}@example.jp", "title": "Manager",
                  "phone": "+81312345678", "industry": "software", "timeline": "2027-01-31"}  # fmt: skip
        rep = users["rep_a"]
        if state == "lead":
            lead = make_lead(**fields)
        else:
            lead = make_mql(team=team_a, owner=rep, **fields)
            steps = {"mql": [], "recycled": [("reject", rep, {"reason": "icp"})],
                     "sal": [("accept", rep, {})],
                     "sql": [("accept", rep, {}), ("qualify_sql", rep, {})],
                     "won": [("accept", rep, {}), ("qualify_sql", rep, {}),
                             ("win", rep, {"amount": Decimal(5)})]}[state]  # fmt: skip
            advance(lead, *steps)
        Lead.objects.filter(pk=lead.pk).update(**{k: v for k, v in BEFORE.items()})
        return Lead.objects.get(pk=lead.pk)

    return make


def _write(path: str, caller: str, lead: Lead, users: Any, intake_key: str) -> int:
    """Send AFTER's values to the lead by `path` as `caller`; the response status."""
    body = {"email": lead.email, **{k: str(v) if k == "budget" else v for k, v in AFTER.items()}}
    if path in ("patch", "intake_token"):
        api = APIClient()
        api.force_authenticate(users[caller])
        if path == "patch":
            body.pop("email")
            return api.patch(f"/api/v1/leads/{lead.pk}/", body, format="json").status_code
        return api.post("/api/v1/intake/", body, format="json").status_code
    if path == "intake_key":
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Api-Key {intake_key}")
        return api.post("/api/v1/intake/", body, format="json").status_code
    if path == "ui":
        client = Client()
        client.force_login(users[caller])
        form = {"part": "fields", "company": AFTER["company"], "department": AFTER["department"]}
        r = client.post(f"/leads/{lead.pk}/edit/", form)
        sales = {"part": "qualification", "budget": "999", "decision_maker": "false",
                 "need": AFTER["need"]}  # fmt: skip
        r2 = client.post(f"/leads/{lead.pk}/edit/", sales)
        return max(r.status_code, r2.status_code)
    if path == "form":
        form = webform_create(data=WebFormInput(
            name="f", fields=["email", "company", "department"], required=[],
            allowed_origins=["https://www.example.co.jp"],
            thank_you_url="https://www.example.co.jp/thanks"), actor=users["marketing"])  # fmt: skip
        return Client().post(f"/forms/{form.public_key}/", {
            "email": lead.email, "company": AFTER["company"], "department": AFTER["department"]},
            HTTP_ORIGIN="https://www.example.co.jp").status_code  # fmt: skip
    if path == "import":
        from integrations.services.imports import (
            csv_import_create,
            csv_import_run,
            csv_import_start,
        )

        out = io.StringIO()
        csv.writer(out).writerows([["email", "company", "department", "budget", "need"],
                                   [lead.email, AFTER["company"], AFTER["department"], "999",
                                    AFTER["need"]]])  # fmt: skip
        imp = csv_import_create(upload=io.BytesIO(out.getvalue().encode()), file_name="x.csv",
                                kind="leads", actor=users[caller])  # fmt: skip
        csv_import_start(imp=imp, mapping={"0": "email", "1": "company", "2": "department",
                                           "3": "budget", "4": "need"}, actor=users[caller])  # fmt: skip
        csv_import_run(import_id=imp.pk, report=lambda p: None)
        return 200
    raise AssertionError(path)


USERS = [c for c in CALLERS if c not in ("key", "visitor")]
CASES = [
    *((p, c) for p in ("patch", "ui", "intake_token") for c in USERS),
    ("intake_key", "key"),
    ("form", "visitor"),
    ("import", "marketing"),
    ("import", "coo"),
]  # every caller on every path it has


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize(("path", "caller"), CASES)
def test_every_path_applies_the_same_write_rules(
    path: str, caller: str, state: str, lead_in: Any, users: Any, intake_key: str
) -> None:
    lead = lead_in(state)
    status = _write(path, caller, lead, users, intake_key)
    after = Lead.objects.get(pk=lead.pk)
    fields = ["company", "department", "budget", "decision_maker", "need"]
    if path == "form":
        fields = ["company", "department"]
    if path == "import":
        fields = ["company", "department", "budget", "need"]
    if path == "ui":
        fields = ["company", "department", "budget", "decision_maker", "need"]
    edit = path in ("patch", "ui")
    for field in fields:
        if edit:
            # An edit asks for all of its fields at once: all of them must be the caller's.
            group = ["company", "department"] if path == "ui" and field not in SALES else (
                ["budget", "decision_maker", "need"] if path == "ui" else fields)  # fmt: skip
            want = readable(caller, state) and all(spec_may_edit(caller, state, f) for f in group)
        else:
            want = spec_intake_writes(caller, state, field)
            if path == "intake_token" and not readable(caller, state):
                want = False  # another team's lead: 409, nothing written
        got = getattr(after, field) == AFTER[field]
        assert got == want, (path, caller, state, field, status)
    if edit and not readable(caller, state):
        assert status == 404, (path, caller, state, status)
    elif path == "patch":
        assert status in (200, 403), status
