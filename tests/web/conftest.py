"""A small world for the web UI tests: leads in every stage, a handoff, rules, a form."""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from accounts.models import Team
from integrations.services.webforms import WebFormInput, webform_create
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


CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are
    # still synchronous, which Django would otherwise refuse near a running loop.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield b
        b.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page_as(browser: Any, live_server: Any, celery_worker: Any) -> Iterator[Any]:
    """A new browser context logged in through the login page; script errors and failed
    subresources are collected in `page.errors`."""
    contexts = []

    def make(username: str, password: str, language: str = "en") -> Any:
        ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale=language)
        contexts.append(ctx)
        page = ctx.new_page()
        page.errors = []
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.on(
            "console",
            lambda m: (
                page.errors.append(m.text)
                if m.type == "error" and not m.text.startswith("Failed to load resource")
                else None
            ),
        )
        # A page answered 400 on purpose (a form with errors) is fine; a script, style, image
        # or htmx request that fails is not.
        page.on(
            "response",
            lambda r: (
                page.errors.append(f"{r.status} {r.url}")
                if r.status >= 400 and r.request.resource_type != "document"
                else None
            ),
        )
        page.set_default_timeout(20_000)
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert "/login/" not in page.url, "logged in"
        page.base = live_server.url
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
