"""The demo data set of `make run`: a company after a quarter of use, built by living it.

Users for every role, two field-sales teams and an inside-sales team in Tokyo, fit and
engagement rules, a definition published at the start and a revised one in the middle that puts
inside sales between marketing and field sales (MQL → TAL → TQL → SAL, SPEC §13), and a few
thousand leads; from then on IS also finds leads of its own (TGLs). A clock walks the last 90 days
(time-machine) and everything happens through the same services as live traffic, at its own
moment: leads arrive by intake, act (events), are scored and qualified automatically, handed
to a rep by the assignment rules, answered (mostly within the SLA), qualified, won or lost,
recycled; the SLA sweep marks what really was late. So the dashboard tells a true story.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import json
import logging
import math
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from leads.choices import LeadState
from leads.models import Lead

S = LeadState
DEMO_USERS = [
    ("marketing", "marketing", None),
    ("coo", "coo", None),
    ("manager_east", "sales_manager", "East"),
    ("manager_west", "sales_manager", "West"),
    ("rep_east1", "sales", "East"),
    ("rep_east2", "sales", "East"),
    ("rep_east3", "sales", "East"),
    ("rep_west1", "sales", "West"),
    ("rep_west2", "sales", "West"),
    ("is_tokyo1", "inside_sales", "IS Tokyo"),  # the first member makes it an IS team
    ("is_tokyo2", "inside_sales", "IS Tokyo"),
    ("manager_is", "sales_manager", "IS Tokyo"),
]
ADMIN_USER = "admin"
MQL_CRITERIA = [
    {"code": "engaged", "kind": "score_at_least", "params": {"score": "engagement", "value": 20}},
    {"code": "icp", "kind": "field_in", "params": {"field": "industry", "values": ["software", "manufacturing"]}},
    {"code": "contactable", "kind": "fields_present", "params": {"fields": ["company", "phone", "title"]}},
    {"code": "need", "kind": "activity_within", "params": {"types": ["quote_request", "demo_request"], "days": 30}},
]  # fmt: skip
DEMO_DEFINITION: dict[str, Any] = {
    "stages": {
        "lead": {"owner": "marketing"},
        "mql": {"owner": "sales", "sla_hours": 24, "criteria": MQL_CRITERIA},
        "sal": {"owner": "sales", "sla_hours": 72},
        "sql": {"owner": "sales", "criteria": [
            {"code": "decision_maker", "kind": "field_true", "params": {"field": "decision_maker"}},
            {"code": "budget", "kind": "fields_present", "params": {"fields": ["budget"]}},
            {"code": "timeline", "kind": "date_within", "params": {"field": "timeline", "days": 180}},
        ]},
        "recycled": {"owner": "marketing", "cooloff_days": 30},
        "lost": {"owner": "sales", "cooloff_days": 90},
    }
}  # fmt: skip
# The revision: IS answers MQLs within 2 hours and has 5 days to hear budget and timing and to
# have called; field sales answers a TQL within a day.
TQL_CRITERIA = [
    {"code": "budget_heard", "kind": "fields_present", "params": {"fields": ["budget"]}},
    {"code": "timing", "kind": "date_within", "params": {"field": "timeline", "days": 180}},
    {"code": "called", "kind": "activity_within", "params": {"types": ["activity.call"], "days": 14}},
]  # fmt: skip
FIT_RULES = [
    {"name": "Target industry", "field": "industry", "operator": "in",
     "values": ["software", "manufacturing"], "points": Decimal(10)},
    {"name": "Mid-size company", "field": "company_size", "operator": "between",
     "values": [100, 3000], "points": Decimal(5)},
    {"name": "Senior title", "field": "title", "operator": "in",
     "values": ["部長", "CTO", "代表取締役", "事業部長"], "points": Decimal(5)},
    {"name": "Free-mail address", "field": "email", "operator": "email_domain_in",
     "values": ["gmail.com", "yahoo.co.jp"], "points": Decimal(-5)},
]  # fmt: skip
SURNAMES = [("佐藤", "サトウ", "sato"), ("鈴木", "スズキ", "suzuki"), ("高橋", "タカハシ", "takahashi"),
            ("田中", "タナカ", "tanaka"), ("伊藤", "イトウ", "ito"), ("渡辺", "ワタナベ", "watanabe"),
            ("山本", "ヤマモト", "yamamoto"), ("中村", "ナカムラ", "nakamura"),
            ("小林", "コバヤシ", "kobayashi"), ("加藤", "カトウ", "kato")]  # fmt: skip
GIVEN = [("翔", "ショウ", "sho"), ("陽菜", "ヒナ", "hina"), ("蓮", "レン", "ren"), ("結衣", "ユイ", "yui"),
         ("大輝", "ダイキ", "daiki"), ("美咲", "ミサキ", "misaki"), ("健", "ケン", "ken"),
         ("葵", "アオイ", "aoi")]  # fmt: skip
# (company, its domain, industry)
COMPANIES = [("アクメ株式会社", "acme.co.jp", "software"), ("サクラ精機株式会社", "sakura-seiki.co.jp", "manufacturing"),
             ("東京ソフト株式会社", "tokyosoft.jp", "software"), ("北斗製作所", "hokuto-mfg.co.jp", "manufacturing"),
             ("ミライ商事株式会社", "mirai-shoji.co.jp", "retail"), ("青葉システム株式会社", "aoba-sys.jp", "software"),
             ("富士テック株式会社", "fujitech.co.jp", "manufacturing"), ("浪速工業株式会社", "naniwa-kogyo.co.jp", "manufacturing"),
             ("みなと銀行", "minato-bank.co.jp", "finance"), ("つばさ物流株式会社", "tsubasa-logi.co.jp", "logistics"),
             ("ひかりクラウド株式会社", "hikari-cloud.jp", "software"), ("大和化成株式会社", "yamato-kasei.co.jp", "manufacturing")]  # fmt: skip
TITLES = ["部長", "課長", "マネージャー", "エンジニア", "CTO", "代表取締役", "事業部長", ""]
SOURCES = [("web_form", "fy26-webinar"), ("ad", "google-search"), ("seminar", "dx-seminar-tokyo"),
           ("exhibition", "japan-it-week"), ("referral", ""), ("import", "")]  # fmt: skip
BROWSING = ["page_view:/blog", "page_view:/pricing", "page_view:/features", "document_download",
            "webinar_attended"]  # fmt: skip
REJECT_REASONS = ["icp", "need", "engaged", "contactable"]
DAYS = 90


class Command(BaseCommand):
    help = "Load the demo data set: users, rules, definitions and a quarter of leads, lived."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--leads", type=int, default=2500)
        parser.add_argument("--seed", type=int, default=2027)
        parser.add_argument("--if-empty", action="store_true", help="Do nothing if leads exist.")
        parser.add_argument(
            "--force", action="store_true", help="Run with LEADFLOW_ENV=production."
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if settings.PRODUCTION and not opts["force"]:
            raise CommandError("seed_demo writes demo data: refused in production without --force.")
        if opts["if_empty"] and Lead.objects.exists():
            self.stdout.write("Demo data already present; nothing to do.")
            return
        from leadflow.celery import app

        users = self._users()
        # Background work runs here and now, as in `make run`; the notices of a quarter's
        # handoffs would otherwise be e-mailed to the console.
        eager = app.conf.task_always_eager
        app.conf.task_always_eager = True
        logging.getLogger("celery.app.trace").setLevel(logging.WARNING)  # a line per task
        try:
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
                counts = Company(random.Random(opts["seed"]), users).live(opts["leads"])
            # The predictive score, as the nightly job would have trained it on this history.
            from analytics.prediction import train_and_score

            model = train_and_score()
        finally:
            app.conf.task_always_eager = eager
        self.stdout.write(self.style.SUCCESS(f"Seeded {counts}."))
        self.stdout.write(f"Predictive score: {model}.")

    def _users(self) -> dict[str, Any]:
        """The demo users; one that exists already is left exactly as it is."""
        from django.contrib.auth import get_user_model

        from accounts.services import user_add

        User = get_user_model()
        users = {}
        self.stdout.write("Demo users (username / password):")
        for username, role, team in DEMO_USERS:
            password = f"demo-{username}"
            existing = User.objects.filter(username=username).first()
            if existing is not None:
                users[username] = existing
                self.stdout.write(f"  {username:14} (exists, unchanged)")
                continue
            users[username] = user_add(username=username, role=role, team=team, password=password,
                                       email=f"{username}@leadflow.example")  # fmt: skip
            self.stdout.write(f"  {username:14} {password:22} {role}{' / ' + team if team else ''}")
        if not User.objects.filter(username=ADMIN_USER).exists():
            User.objects.create_superuser(ADMIN_USER, "admin@leadflow.example", "demo-admin")
            self.stdout.write(f"  {ADMIN_USER:14} {'demo-admin':22} the Django admin at /admin/")
        return users


class Company:
    """A quarter of a company's revenue process, played through the services on a clock."""

    def __init__(self, rng: random.Random, users: dict[str, Any], days: int = DAYS) -> None:
        self.rng, self.users, self.days = rng, users, days
        self.end = timezone.now().replace(microsecond=0)
        self.start = self.end - timedelta(days=days)
        self.queue: list[tuple[datetime, int, Callable[[], None]]] = []
        self.seq = itertools.count()
        self.n_events = 0
        self.codes = itertools.count(1)
        self.inside_sales = False  # from the revision on

    # --- the clock -----------------------------------------------------------------------------

    def at(self, when: datetime, action: Callable[[], None]) -> None:
        if when < self.end:
            heapq.heappush(self.queue, (when, next(self.seq), action))

    def live(self, n: int) -> dict[str, int]:
        import time_machine

        from handoff.models import Handoff
        from leads.models import Event, LeadTransition
        from leads.services.stage_entries import stage_rollups_rebuild

        with time_machine.travel(self.start, tick=False) as clock:
            self._setup()
            for i in range(n):
                self.at(self.start + timedelta(seconds=self.rng.uniform(0, self.days * 86400)),
                        functools.partial(self.arrive, i))  # fmt: skip
            for hour in range(1, self.days * 24):  # the SLA sweep, as beat runs it
                self.at(self.start + timedelta(hours=hour), self.sweep)
            self.at(self.start + timedelta(days=self.days // 2), self.revise_definition)
            while self.queue:
                when, _seq, action = heapq.heappop(self.queue)
                clock.move_to(when)
                action()
        stage_rollups_rebuild()
        return {
            "leads": Lead.objects.count(), "events": Event.objects.count(),
            "history": LeadTransition.objects.count(), "handoffs": Handoff.objects.count(),
        }  # fmt: skip

    def _setup(self) -> None:
        from leads.services.definitions import definition_create, definition_publish
        from scoring.services import rule_create

        coo = self.users["coo"]
        for rule in FIT_RULES:
            rule_create(actor=coo, kind="fit", **rule)
        draft = definition_create(name="FY2026 H2", document=DEMO_DEFINITION, actor=coo)
        definition_publish(definition_id=draft.pk)

    def revise_definition(self) -> None:
        """Mid-quarter the COO asks for a little more engagement and puts inside sales between
        marketing and field sales: v2 replaces v1 (which stays comparable on the dashboard)."""
        import copy

        from leads.services.definitions import definition_create, definition_publish

        document = copy.deepcopy(DEMO_DEFINITION)
        document["stages"]["mql"]["criteria"][0]["params"]["value"] = 22
        document["stages"]["mql"].update(owner="inside_sales", sla_hours=2)
        document["stages"]["tal"] = {"owner": "inside_sales", "sla_hours": 120}
        document["stages"]["tql"] = {"owner": "sales", "sla_hours": 24, "criteria": TQL_CRITERIA}
        self.inside_sales = True
        draft = definition_create(name="FY2027 H1", document=document, actor=self.users["coo"])
        definition_publish(definition_id=draft.pk)

    def sweep(self) -> None:
        from handoff.services import handoff_sla_sweep, recycle_sweep

        handoff_sla_sweep()
        if timezone.now().hour == 0:
            recycle_sweep()

    # --- a lead's life ---------------------------------------------------------------------------

    def arrive(self, i: int) -> None:
        from leads.services.intake import lead_intake

        rng, now = self.rng, timezone.now()
        surname, given = rng.choice(SURNAMES), rng.choice(GIVEN)
        company, domain, industry = rng.choice(COMPANIES)
        fate = rng.random()
        sgl = fate < 0.03
        tgl = self.inside_sales and 0.03 <= fate < 0.06  # found by an IS rep's own calls
        keen = 0.06 <= fate < 0.45  # will look for a quote within days
        if rng.random() < 0.07:
            domain = rng.choice(["gmail.com", "yahoo.co.jp"])
        source, campaign = (
            ("sales_generated", "") if sgl
            else ("inside_sales_generated", "") if tgl
            else rng.choice(SOURCES)
        )  # fmt: skip
        fields = {
            "email": f"{given[2]}.{surname[2]}{i}@{domain}",
            "last_name": surname[0], "last_name_kana": surname[1],
            "first_name": given[0], "first_name_kana": given[1],
            "company": company, "industry": industry if keen or rng.random() < 0.7 else "",
            "title": rng.choice(TITLES[:-1] if keen else TITLES),
            "phone": f"+813{rng.randint(10000000, 99999999)}" if keen or rng.random() < 0.6 else "",
            "company_size": rng.choice([12, 45, 120, 300, 800, 2500]),
            "country": "JP", "source": source, "campaign": campaign,
            "utm_source": "google" if source == "ad" else "", "consent": rng.random() < 0.85,
        }  # fmt: skip
        actor = self.rep() if sgl else self.rep("inside_sales") if tgl else None
        lead = lead_intake(fields=fields, actor=actor).lead
        if sgl or tgl:
            claim = "claim" if sgl else "is_claim"
            self.at(now + timedelta(hours=rng.uniform(1, 48)),
                    lambda: self.claim(lead.pk, actor, claim))  # fmt: skip
            return
        if keen:  # browses, downloads, then asks for a quote: the MQL follows by itself
            first = now + timedelta(hours=rng.uniform(1, 30))
            self.at(first, lambda: self.act(lead.pk, ["page_view:/features",
                    "page_view:/features", "document_download"], 20))  # fmt: skip
            self.at(first + timedelta(hours=rng.uniform(6, 72)),
                    lambda: self.act(lead.pk, ["document_download", "quote_request"], 4))  # fmt: skip
        else:
            kinds = [rng.choice(BROWSING) for _ in range(rng.randint(0, 5))]
            if kinds:
                self.at(now + timedelta(days=rng.uniform(0.2, 20)),
                        lambda: self.act(lead.pk, kinds, 72))  # fmt: skip
            if rng.random() < 0.06:
                self.at(now + timedelta(days=rng.uniform(1, 10)), lambda: self.archive(lead.pk))

    def act(self, lead_id: int, kinds: list[str], spread_hours: float) -> None:
        """The lead's recent behaviour arrives (a tracker's batch), and is scored."""
        from leads.services.events import EventInput, event_ingest

        now = timezone.now()
        items = []
        for j, kind in enumerate(kinds):
            etype, _, url = kind.partition(":")
            when = now - timedelta(hours=spread_hours * (len(kinds) - j) / (len(kinds) + 1))
            items.append(EventInput(index=j, lead_id=lead_id, type=etype, occurred_at=when,
                                    properties_json=json.dumps({"url": url} if url else {}),
                                    external_id=f"demo-{next(self.codes)}"))  # fmt: skip
        from scoring.services import score_leads

        with transaction.atomic():
            event_ingest(events=items)
        score_leads(lead_ids=[lead_id])  # what the rescore task does once the batch commits
        self.n_events += len(items)
        self.next_step(lead_id)

    def next_step(self, lead_id: int) -> None:
        """What the people do next with a lead, by its state, at a human pace."""
        rng, now = self.rng, timezone.now()
        lead = Lead.objects.get(pk=lead_id)
        inside = lead.definition is not None and lead.definition.has_inside_sales
        if lead.state == S.MQL:  # the rep answers, mostly well within the SLA (IS: minutes)
            if now > self.end - timedelta(days=2) and rng.random() < 0.6:
                return  # the last days' handoffs are still waiting in the inbox
            typical = 0.4 if inside else 3.5
            delay = timedelta(hours=min(rng.lognormvariate(math.log(typical), 1.0), 60))
            if rng.random() < (0.1 if inside else 0.24):
                reason = rng.choice(REJECT_REASONS)
                self.at(now + delay, lambda: self.move(lead_id, "reject", reason=reason,
                                                      note="業種・ニーズが合わない"))  # fmt: skip
            else:
                name = "is_accept" if inside else "accept"
                self.at(now + delay, lambda: self.move(lead_id, name))
        elif lead.state == S.TAL:  # IS calls until it hears enough, or gives up
            self.at(now + timedelta(minutes=rng.uniform(5, 90)), lambda: self.call(lead_id, 1))
        elif lead.state == S.TQL:  # field sales answers within its day
            delay = timedelta(hours=min(rng.lognormvariate(math.log(4), 0.8), 40))
            if rng.random() < 0.2:
                reason = rng.choice(["budget_heard", "timing"])
                self.at(now + delay, lambda: self.move(lead_id, "reject", reason=reason,
                                                      note="予算の確度が低い"))  # fmt: skip
            else:
                self.at(now + delay, lambda: self.move(lead_id, "accept"))
        elif lead.state == S.SAL:
            later = now + timedelta(days=rng.uniform(1, 9))
            roll = rng.random()
            if roll < 0.15:
                reason = rng.choice(["no_budget", "no_need", "bad_timing", "unreachable"])
                self.at(later, lambda: self.move(lead_id, "disqualify", reason=reason))
            elif roll < 0.9:
                self.at(later, lambda: self.qualify(lead_id))
        elif lead.state == S.SQL:
            later = now + timedelta(days=rng.uniform(4, 25))
            # Manufacturers and larger companies buy more often: the pattern the advisor and
            # the predictive score are there to find.
            wins = 0.3 + 0.3 * (lead.industry == "manufacturing")
            wins += 0.15 * ((lead.company_size or 0) >= 300)
            roll = rng.random()
            if roll < wins:
                amount = Decimal(rng.choice([800_000, 1_500_000, 2_400_000, 4_800_000, 12_000_000]))
                self.at(later, lambda: self.move(lead_id, "win", amount=amount))
            elif roll < 0.9:
                reason = rng.choice(["price", "competitor", "timing", "no_decision"])
                self.at(later, lambda: self.move(lead_id, "lose", reason=reason))
        elif lead.state == S.RECYCLED and rng.random() < 0.35:
            # Comes back after the cool-off with new interest: a re-entry.
            self.at(
                now + timedelta(days=rng.uniform(31, 45)),
                lambda: self.act(
                    lead_id, ["document_download", "page_view:/features", "demo_request"], 30
                ),
            )

    def move(self, lead_id: int, name: str, **args: Any) -> None:
        from leadflow.errors import LeadflowError
        from leads.services.transitions import TransitionArgs, lead_transition

        lead = Lead.objects.get(pk=lead_id)
        actor = lead.owner if name not in ("archive",) else self.users["marketing"]
        try:
            lead_transition(lead_id=lead_id, name=name, actor=actor, args=TransitionArgs(**args))
        except LeadflowError:
            return  # the lead moved on meanwhile (recycled by a sweep, re-assigned): let it be
        self.next_step(lead_id)

    def qualify(self, lead_id: int, name: str = "qualify_sql") -> None:
        """The rep hears budget and timing, records them and qualifies the SAL as an SQL (or
        IS the TAL as a TQL)."""
        from leads.services.leads import lead_update

        lead = Lead.objects.get(pk=lead_id)
        now = timezone.now()
        lead_update(lead_id=lead_id, actor=lead.owner, fields={
            "decision_maker": True,
            "budget": Decimal(self.rng.choice([1, 3, 5, 10, 30]) * 1_000_000),
            "timeline": (now + timedelta(days=self.rng.randint(20, 150))).date(),
            "need": self.rng.choice(["SFA の刷新", "MA 導入", "営業の可視化", "名刺管理の統合"]),
        })  # fmt: skip
        self.move(lead_id, name)

    def call(self, lead_id: int, attempt: int) -> None:
        """An IS call: mostly no answer at first; once connected, IS hears need, budget and
        timing and qualifies a TQL, or disqualifies the lead."""
        from leads.services.activities import activity_log

        rng, now = self.rng, timezone.now()
        lead = Lead.objects.get(pk=lead_id)
        if lead.state != S.TAL:
            return
        connected = rng.random() < 0.35 + 0.15 * attempt
        outcome = "connected" if connected else rng.choice(["no_answer", "no_answer", "voicemail"])
        activity_log(lead_id=lead_id, actor=lead.owner, kind="call", outcome=outcome)
        self.n_events += 1
        if not connected:
            if attempt >= 4:
                self.at(now + timedelta(hours=2),
                        lambda: self.move(lead_id, "is_disqualify", reason="unreachable"))  # fmt: skip
            else:
                self.at(now + timedelta(hours=rng.uniform(3, 30)),
                        lambda: self.call(lead_id, attempt + 1))  # fmt: skip
            return
        if rng.random() < 0.25:
            reason = rng.choice(["no_budget", "no_need", "bad_timing"])
            self.at(now + timedelta(hours=1), lambda: self.move(lead_id, "is_disqualify",
                                                                reason=reason))  # fmt: skip
            return
        self.at(
            now + timedelta(hours=rng.uniform(0.5, 20)),
            lambda: self.qualify(lead_id, "qualify_tql"),
        )

    def claim(self, lead_id: int, rep: Any, name: str = "claim") -> None:
        from leads.services.transitions import lead_transition

        lead_transition(lead_id=lead_id, name=name, actor=rep)
        self.next_step(lead_id)

    def archive(self, lead_id: int) -> None:
        reason = self.rng.choice(["spam", "invalid", "duplicate", "do_not_contact"])
        lead = Lead.objects.get(pk=lead_id)
        if lead.state in (S.LEAD, S.RECYCLED):
            self.move(lead_id, "archive", reason=reason)

    def rep(self, role: str = "sales") -> Any:
        return self.users[self.rng.choice([u for u, r, _t in DEMO_USERS if r == role])]
