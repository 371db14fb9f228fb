"""Scoring rules, webhooks and web forms edited from the UI with the API's validation; the UI
language chosen per user or by the browser."""

from __future__ import annotations

from typing import Any

from django.test import Client

from handoff.models import WebhookSubscription
from integrations.models import WebForm
from scoring.models import ScoringRule


def test_a_fit_rule_is_created_and_a_bad_one_shows_its_errors(world: Any, web_as: Any) -> None:
    client = web_as("marketing")
    r = client.post("/scoring/new/", {"kind": "fit", "name": "Mid-size", "points": "7",
                                      "field": "company_size", "operator": "between",
                                      "values": "50, 500", "is_active": "on"})  # fmt: skip
    assert r.status_code == 302
    rule = ScoringRule.objects.get(name="Mid-size")
    assert (rule.values, rule.points, rule.operator) == ([50, 500], 7, "between")
    bad = client.post("/scoring/new/", {"kind": "fit", "name": "Bad", "points": "x",
                                        "field": "shoe_size", "operator": "equals", "values": ""})  # fmt: skip
    html = bad.content.decode()
    assert bad.status_code == 400 and '<div class="field-error"><label for="points">' in html
    assert not ScoringRule.objects.filter(name="Bad").exists()
    r = client.post(f"/scoring/{rule.pk}/", {"kind": "fit", "name": "Mid-size", "points": "9",
                                             "field": "company_size", "operator": "between",
                                             "values": ", 500", "is_active": "on"})  # fmt: skip
    rule.refresh_from_db()
    assert (rule.points, rule.values) == (9, [None, 500])
    assert client.post(f"/scoring/{rule.pk}/delete/").status_code == 302
    assert not ScoringRule.objects.filter(pk=rule.pk).exists()
    assert web_as("rep_a").post("/scoring/new/", {"kind": "fit"}).status_code == 403


def test_an_engagement_rule_with_a_property_match(world: Any, web_as: Any) -> None:
    r = web_as("coo").post("/scoring/new/", {"kind": "engagement", "name": "Pricing", "points": "4",
                                             "event_type": "page_view", "property_key": "url",
                                             "property_op": "contains", "property_value": "/pricing",
                                             "half_life_days": "14", "cap": "", "is_active": "on"})  # fmt: skip
    assert r.status_code == 302
    rule = ScoringRule.objects.get(name="Pricing")
    assert (rule.property_value, rule.half_life_days, rule.cap) == ("/pricing", 14, None)


def test_a_webhook_is_created_with_a_secret_and_events(world: Any, web_as: Any) -> None:
    client = web_as("marketing")
    r = client.post("/webhooks/new/", {"name": "CRM", "url": "ftp://x", "secret": "short",
                                       "event_types": ["transition.accept"]})  # fmt: skip
    assert r.status_code == 400 and not WebhookSubscription.objects.exists()
    r = client.post("/webhooks/new/", {"name": "CRM", "url": "https://crm.example.jp/hook",
                                       "secret": "s" * 24, "is_active": "on",
                                       "event_types": ["transition.accept", "handoff.breached"]})  # fmt: skip
    sub = WebhookSubscription.objects.get()
    assert r.status_code == 302 and sub.event_types == ["transition.accept", "handoff.breached"]
    client.post(f"/webhooks/{sub.pk}/", {"name": "CRM 2", "url": sub.url, "secret": "",
                                         "event_types": ["*"], "is_active": "on"})  # fmt: skip
    sub.refresh_from_db()
    assert (sub.name, sub.secret, sub.event_types) == ("CRM 2", "s" * 24, ["*"])


def test_a_web_form_needs_an_origin_and_shows_its_snippet(world: Any, web_as: Any) -> None:
    client = web_as("marketing")
    r = client.post("/web-forms/new/", {"name": "Seminar", "fields": ["company"],
                                        "allowed_origins": "https://x.jp/path",
                                        "thank_you_url": "https://x.jp/thanks"})  # fmt: skip
    assert r.status_code == 400 and not WebForm.objects.filter(name="Seminar").exists()
    r = client.post("/web-forms/new/", {"name": "Seminar", "fields": ["company", "phone"],
                                        "required": ["company"], "is_active": "on",
                                        "allowed_origins": "https://X.jp/\nhttps://lp.x.jp",
                                        "thank_you_url": "https://x.jp/thanks"})  # fmt: skip
    form = WebForm.objects.get(name="Seminar")
    assert form.allowed_origins == ["https://x.jp", "https://lp.x.jp"]
    assert form.fields == ["email", "company", "phone"] and form.required == ["email", "company"]
    page = client.get(r["Location"]).content.decode()
    assert f"/forms/{form.public_key}/" in page and "contact_fax" in page


def test_the_language_follows_the_user_then_the_browser(world: Any, users: Any) -> None:
    browser = Client(HTTP_ACCEPT_LANGUAGE="ja")
    assert '<html lang="ja">' in browser.get("/login/").content.decode()
    client = Client(HTTP_ACCEPT_LANGUAGE="ja")
    client.post("/login/", {"username": "mika", "password": "pw-marketing-1"})
    client.post("/language/", {"language": "en", "next": "/leads/"})
    assert '<html lang="en">' in client.get("/leads/").content.decode()
    again = Client(HTTP_ACCEPT_LANGUAGE="ja")
    again.post("/login/", {"username": "mika", "password": "pw-marketing-1"})
    assert '<html lang="en">' in again.get("/leads/").content.decode(), "the choice is the user's"
    again.post("/language/", {"language": ""})
    assert '<html lang="ja">' in again.get("/leads/").content.decode(), "back to the browser's"
    r = again.post("/language/", {"language": "en", "next": "https://evil.example.com/"})
    assert r["Location"] == "/", "never redirected off-site"
