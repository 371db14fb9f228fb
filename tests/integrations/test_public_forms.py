"""Public web forms (SPEC §6): a plain HTML form post from an allowed origin creates the lead
through intake and redirects; a disallowed origin, a filled honeypot or bad input create
nothing; posts are rate-limited per address."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from integrations.models import WebFormSubmission
from integrations.services.webforms import HONEYPOT
from leads.models import Lead

ORIGIN = "https://www.example.co.jp"


def post(form: Any, data: dict[str, str], **headers: str) -> Any:
    """What a browser sends for a plain <form method=post>: urlencoded, no CSRF token."""
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR=headers.pop("ip", "203.0.113.7"))
    return client.post(f"/forms/{form.public_key}/", data, **headers)


def test_a_plain_form_post_creates_the_lead_and_redirects(world: Any) -> None:
    form = world["form"]
    r = post(form, {"email": " Ｓｕｚｕｋｉ＠Example.co.jp ", "company": "鈴木工業", "last_name": "鈴木",
                    "phone": "０３−１２３４−５６７８", "utm_source": "newsletter", "submit": "送信"},
             HTTP_ORIGIN=ORIGIN)  # fmt: skip
    assert r.status_code == 303 and r["Location"] == "https://www.example.co.jp/thanks"
    lead = Lead.objects.get(email="suzuki@example.co.jp")
    assert (lead.company, lead.last_name, lead.phone) == ("鈴木工業", "鈴木", "+81312345678")
    assert (lead.source, lead.campaign, lead.utm_source) == ("web_form", "spring", "newsletter")
    assert lead.state == "lead" and lead.stage_entries.count() == 1
    sub = WebFormSubmission.objects.get()
    assert (sub.form, sub.lead, sub.created, sub.origin) == (form, lead, True, ORIGIN)
    again = post(form, {"email": "suzuki@example.co.jp", "company": "鈴木工業"}, HTTP_ORIGIN=ORIGIN)
    assert again.status_code == 303 and Lead.objects.filter(email__startswith="suzuki").count() == 1
    assert WebFormSubmission.objects.filter(created=False).count() == 1


def test_the_referer_stands_in_for_a_missing_origin(world: Any) -> None:
    r = post(world["form"], {"email": "ref@example.jp", "company": "R"},
             HTTP_REFERER=f"{ORIGIN}/contact/?x=1")  # fmt: skip
    assert r.status_code == 303 and Lead.objects.filter(email="ref@example.jp").exists()


@pytest.mark.parametrize(
    "headers",
    [{"HTTP_ORIGIN": "https://evil.example.com"}, {"HTTP_ORIGIN": "null"}, {},
     {"HTTP_REFERER": "https://www.example.co.jp.evil.com/contact/"},
     {"HTTP_ORIGIN": "http://www.example.co.jp"}],
)  # fmt: skip
def test_a_post_from_a_disallowed_origin_creates_nothing(world: Any, headers: Any) -> None:
    before = Lead.objects.count()
    r = post(world["form"], {"email": "x@example.jp", "company": "X"}, **headers)
    assert r.status_code == 403
    assert Lead.objects.count() == before and not WebFormSubmission.objects.exists()


def test_a_filled_honeypot_creates_nothing_and_still_redirects(world: Any) -> None:
    before = Lead.objects.count()
    r = post(world["form"], {"email": "bot@example.jp", "company": "B", HONEYPOT: "+1 555 0100"},
             HTTP_ORIGIN=ORIGIN)  # fmt: skip
    assert r.status_code == 303 and r["Location"] == world["form"].thank_you_url
    assert Lead.objects.count() == before and not WebFormSubmission.objects.exists()


@pytest.mark.parametrize(
    "data",
    [{"company": "no e-mail"}, {"email": "not-an-email", "company": "X"}, {"email": "a@b.jp"},
     {"email": "a@b.jp", "company": "X", "phone": "call me maybe"}],
)  # fmt: skip
def test_bad_input_is_a_400_page_and_creates_nothing(world: Any, data: Any) -> None:
    before = Lead.objects.count()
    r = post(world["form"], data, HTTP_ORIGIN=ORIGIN)
    assert r.status_code == 400 and b"The form was not sent" in r.content
    assert Lead.objects.count() == before


def test_an_unknown_or_closed_form_is_404(world: Any) -> None:
    form = world["form"]
    form.is_active = False
    form.save()
    r = post(form, {"email": "c@example.jp", "company": "C"}, HTTP_ORIGIN=ORIGIN)
    assert r.status_code == 404 and not Lead.objects.filter(email="c@example.jp").exists()
    r = Client().post("/forms/nope/", {"email": "c@example.jp"}, HTTP_ORIGIN=ORIGIN)
    assert r.status_code == 404


def test_only_post_is_accepted(world: Any) -> None:
    assert Client().get(f"/forms/{world['form'].public_key}/").status_code == 405


@pytest.mark.skipif(
    "redis" not in django_settings.CACHES["default"]["BACKEND"].lower(),
    reason="the limits are counted in Redis (REDIS_URL)",
)
def test_posts_are_rate_limited_per_address(world: Any, settings: Any) -> None:
    settings.CACHES = {
        "default": {**django_settings.CACHES["default"], "KEY_PREFIX": uuid.uuid4().hex}
    }
    settings.RATE_LIMITS = {"forms": "3/h"}
    codes = [
        post(world["form"], {"email": f"r{i}@example.jp", "company": "R"}, HTTP_ORIGIN=ORIGIN,
             ip="198.51.100.1").status_code
        for i in range(5)
    ]  # fmt: skip
    assert codes == [303, 303, 303, 429, 429]
    assert Lead.objects.filter(email__startswith="r").count() == 3
    limited = post(world["form"], {"email": "r9@example.jp", "company": "R"}, HTTP_ORIGIN=ORIGIN,
                   ip="198.51.100.1")  # fmt: skip
    assert 0 < int(limited["Retry-After"]) <= 3600
    other = post(world["form"], {"email": "o@example.jp", "company": "O"}, HTTP_ORIGIN=ORIGIN,
                 ip="198.51.100.2")  # fmt: skip
    assert other.status_code == 303
