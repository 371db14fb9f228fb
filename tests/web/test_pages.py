"""Every page of the web UI renders for the roles that may see it, in English and Japanese,
within the Content-Security-Policy (no inline script or style), and refuses the others."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest

ROLES = ["marketing", "coo", "rep_a", "manager_a"]


def pages(world: dict[str, Any]) -> dict[str, list[str]]:
    """Path -> the roles that may open it (the others get 403)."""
    lead, form = world["sal"].pk, world["form"].pk
    every = ROLES
    return {
        "/dashboard/": every,
        "/leads/": every,
        f"/leads/{lead}/": every,
        "/leads/export.csv": every,
        "/inbox/": ["coo", "rep_a", "manager_a"],
        "/inbox/?tab=team": ["coo", "rep_a", "manager_a"],
        "/pipeline/": ["rep_a", "manager_a"],
        "/definitions/": every,
        f"/definitions/{world['sal'].definition_id}/": every,
        "/scoring/": every,
        "/scoring/new/?kind=fit": ["marketing", "coo"],
        "/scoring/new/?kind=engagement": ["marketing", "coo"],
        "/web-forms/": ["marketing", "coo"],
        f"/web-forms/{form}/": ["marketing", "coo"],
        "/web-forms/new/": ["marketing", "coo"],
        "/webhooks/": ["marketing", "coo"],
        "/webhooks/new/": ["marketing", "coo"],
        "/imports/": ["marketing", "coo"],
    }


class InlineCode(HTMLParser):
    """Collects what the Content-Security-Policy would block: style attributes and elements,
    scripts without a source (other than JSON data), and inline event handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "style" or "style" in names:
            self.found.append(f"<{tag} style>")
        if tag == "script" and "src" not in names and names.get("type") != "application/json":
            self.found.append("<script> inline")
        self.found += [f"<{tag} {a}>" for a in names if a.startswith("on")]


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


@pytest.mark.parametrize("language", ["en", "ja"])
def test_every_page_renders_for_its_roles_only(world: Any, web_as: Any, language: str) -> None:
    for role in ROLES:
        client = web_as(role)
        client.post("/language/", {"language": language})
        for path, allowed in pages(world).items():
            r = client.get(path)
            if role not in allowed:
                assert r.status_code == 403, (role, path, r.status_code)
                continue
            assert r.status_code == 200, (role, path, r.status_code)
            if path.endswith(".csv"):
                continue
            html = r.content.decode()
            assert f'<html lang="{language}">' in html, (role, path)
            assert inline_code(html) == [], (role, path)


def test_an_anonymous_visitor_is_sent_to_the_login_page(world: Any, client: Any) -> None:
    for path in ("/dashboard/", "/leads/", "/inbox/", "/definitions/"):
        r = client.get(path)
        assert r.status_code == 302 and r["Location"].startswith("/login/?next="), path


def test_another_teams_lead_is_not_found(world: Any, web_as: Any) -> None:
    lead = world["sal"].pk
    assert web_as("rep_b").get(f"/leads/{lead}/").status_code == 404
    assert web_as("manager_b").get(f"/leads/{lead}/").status_code == 404
    assert web_as("rep_a").get(f"/leads/{lead}/").status_code == 200


def test_the_inline_code_check_sees_what_the_policy_blocks() -> None:
    html = '<p style="color:red">x</p><script>alert(1)</script><a onclick="x()">y</a>'
    assert inline_code(html) == ["<p style>", "<script> inline", "<a onclick>"]
    assert (
        inline_code('<script src="/a.js"></script><script type="application/json">{}</script>')
        == []
    )


def test_a_database_outage_is_a_503_page_not_a_500(
    world: Any, web_as: Any, monkeypatch: Any
) -> None:
    from django.db import OperationalError

    import web.views.leads

    def down(**kwargs: Any) -> Any:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(web.views.leads.selectors, "lead_list", down)
    client = web_as("marketing")
    page = client.get("/leads/", HTTP_ACCEPT="text/html")
    assert page.status_code == 503 and page["Retry-After"] == "5"
    assert b"Temporarily unavailable" in page.content
    data = client.get("/leads/export.csv", HTTP_ACCEPT="text/csv")
    assert data.status_code == 503 and data["Content-Type"] == "application/problem+json"
