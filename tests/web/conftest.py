"""A small world for the web UI tests: leads in every stage, a handoff, rules, a form."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from accounts.models import Team
from integrations.webforms import WebFormInput, webform_create
from tests.factories import advance, make_lead, make_mql


@pytest.fixture
def world(users: dict[str, Any], published_definition: Any, default_rules: Any) -> dict[str, Any]:
    team_a = Team.objects.get(name="Team A")
    plain = make_lead(
        email="plain@example.co.jp", company="株式会社サンプル", last_name_kana="サトウ"
    )
    mql = make_mql(team=team_a, owner=users["rep_a"], email="mql@example.co.jp")
    sal = advance(make_mql(team=team_a, owner=users["rep_a"], email="sal@example.co.jp"),
                  ("accept", users["rep_a"], {}))  # fmt: skip
    won = advance(
        make_mql(team=team_a, owner=users["rep_a"], email="won@example.co.jp",
                 decision_maker=True, budget="5000000", timeline="2027-03-01"),
        ("accept", users["rep_a"], {}), ("qualify_sql", users["rep_a"], {}),
        ("win", users["rep_a"], {"amount": Decimal("3000000")}),
    )  # fmt: skip
    form = webform_create(
        data=WebFormInput(
            name="Contact", fields=["email", "company", "last_name", "phone"],
            required=["company"], allowed_origins=["https://www.example.co.jp"],
            thank_you_url="https://www.example.co.jp/thanks", campaign="spring",
        ),
        actor=users["marketing"],
    )  # fmt: skip
    return {"plain": plain, "mql": mql, "sal": sal, "won": won, "form": form}


@pytest.fixture
def web_as(users: dict[str, Any]) -> Any:
    """A browser-like client logged in as one of the users."""

    def make(who: str) -> Client:
        client = Client()
        client.force_login(users[who])
        return client

    return make
