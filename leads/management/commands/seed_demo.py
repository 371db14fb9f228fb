"""The demo data set of `make run`: a company after a quarter of use.

Users for every role, two sales teams, the published definition of SPEC §3 and a few thousand
leads with events and a history that walks the real lifecycle edges. Rows are generated in memory
and written with bulk_create (set-based), so it takes seconds even on SQLite.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.models import Team
from accounts.services import user_add
from handoff.models import Handoff
from leads.choices import LeadState, LostReason
from leads.definitions import evaluate_stage
from leads.lifecycle import EDGES
from leads.models import Event, Lead, LeadScore, LeadTransition
from leads.services.definitions import definition_create, definition_publish
from leads.services.stage_entries import stage_entries_rebuild, stage_rollups_rebuild

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
]
DEMO_DEFINITION = {
    "stages": {
        "lead": {"owner": "marketing"},
        "mql": {"owner": "sales", "sla_hours": 24, "criteria": [
            {"code": "engaged", "kind": "score_at_least", "params": {"score": "engagement", "value": 20}},
            {"code": "icp", "kind": "field_in", "params": {"field": "industry", "values": ["software", "manufacturing"]}},
            {"code": "contactable", "kind": "fields_present", "params": {"fields": ["company", "phone", "title"]}},
            {"code": "need", "kind": "activity_within", "params": {"types": ["quote_request", "demo_request"], "days": 30}},
        ]},
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
SURNAMES = [("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"), ("伊藤", "イトウ"),
            ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"), ("小林", "コバヤシ"), ("加藤", "カトウ")]  # fmt: skip
GIVEN = [
    ("翔", "ショウ"),
    ("陽菜", "ヒナ"),
    ("蓮", "レン"),
    ("結衣", "ユイ"),
    ("大輝", "ダイキ"),
    ("美咲", "ミサキ"),
]
COMPANIES = [
    "アクメ",
    "サクラ精機",
    "東京ソフト",
    "北斗製作所",
    "ミライ商事",
    "青葉システム",
    "富士テック",
    "浪速工業",
]
INDUSTRIES = [
    "software",
    "software",
    "manufacturing",
    "manufacturing",
    "retail",
    "finance",
    "logistics",
]
TITLES = ["部長", "課長", "マネージャー", "エンジニア", "CTO", "代表取締役", ""]
SOURCES = [("web_form", "fy26-webinar"), ("ad", "google-search"), ("seminar", "dx-seminar-tokyo"),
           ("exhibition", "japan-it-week"), ("referral", ""), ("import", "")]  # fmt: skip
# (weight, path of transitions after intake)
PATHS: list[tuple[int, list[str]]] = [
    (52, []), (5, ["archive"]), (6, ["qualify_mql"]), (6, ["qualify_mql", "reject"]),
    (2, ["qualify_mql", "reject", "qualify_mql"]), (6, ["qualify_mql", "accept"]),
    (3, ["qualify_mql", "accept", "disqualify"]), (5, ["qualify_mql", "accept", "qualify_sql"]),
    (5, ["qualify_mql", "accept", "qualify_sql", "win"]), (4, ["qualify_mql", "accept", "qualify_sql", "lose"]),
    (1, ["qualify_mql", "accept", "qualify_sql", "lose", "recycle"]), (2, ["claim", "qualify_sql", "win"]),
]  # fmt: skip
EVENT_POINTS = {"page_view:/features": 3, "document_download": 5, "quote_request": 8}


class Command(BaseCommand):
    help = "Load the demo data set (users, teams, a published definition, leads with history)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--leads", type=int, default=3000)
        parser.add_argument("--seed", type=int, default=2027)
        parser.add_argument("--if-empty", action="store_true", help="Do nothing if leads exist.")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["if_empty"] and Lead.objects.exists():
            self.stdout.write("Demo data already present; nothing to do.")
            return
        rng = random.Random(opts["seed"])
        with transaction.atomic():
            users = self._users()
            coo = users["coo"]
            definition = definition_publish(
                definition_id=definition_create(
                    name="FY2027 H1", document=DEMO_DEFINITION, actor=coo
                ).pk
            )
            counts = Generator(rng, users, definition).run(opts["leads"])
        self.stdout.write(self.style.SUCCESS(f"Seeded {counts}."))

    def _users(self) -> dict[str, Any]:
        users = {}
        self.stdout.write("Demo users (username / password):")
        for username, role, team in DEMO_USERS:
            password = f"demo-{username}"
            users[username] = user_add(username=username, role=role, team=team, password=password,
                                       email=f"{username}@leadflow.example")  # fmt: skip
            self.stdout.write(f"  {username:14} {password:22} {role}{' / ' + team if team else ''}")
        return users


class Generator:
    def __init__(self, rng: random.Random, users: dict[str, Any], definition: Any) -> None:
        self.rng, self.users, self.definition = rng, users, definition
        self.now = timezone.now()
        self.teams = {t.name: t for t in Team.objects.all()}
        self.reps = {"East": [users[f"rep_east{i}"] for i in (1, 2, 3)],
                     "West": [users[f"rep_west{i}"] for i in (1, 2)]}  # fmt: skip
        self.owner_of = {
            s: d.get("owner", "marketing") for s, d in definition.document["stages"].items()
        }

    def run(self, n: int) -> dict[str, int]:
        plans = [self._plan(i) for i in range(n)]
        leads = Lead.objects.bulk_create([p["lead"] for p in plans], batch_size=500)
        events, history = [], []
        for plan, lead in zip(plans, leads, strict=True):
            plan["score"].lead_id = lead.pk
            for e in plan["events"]:
                e.lead_id = lead.pk
                events.append(e)
            for h in plan["history"]:
                h.lead_id = lead.pk
                history.append(h)
        LeadScore.objects.bulk_create([p["score"] for p in plans], batch_size=1000)
        Event.objects.bulk_create(events, batch_size=1000)
        LeadTransition.objects.bulk_create(history, batch_size=1000)
        handoffs = Handoff.objects.bulk_create(self._handoffs(history), batch_size=1000)
        stage_entries_rebuild()
        stage_rollups_rebuild()
        return {
            "leads": len(leads),
            "events": len(events),
            "history": len(history),
            "handoffs": len(handoffs),
        }

    def _handoffs(self, history: list[LeadTransition]) -> list[Handoff]:
        """One handoff per entry into mql, answered by the transition that left mql (if any)."""
        sla = timedelta(hours=self.definition.stage("mql").get("sla_hours", 24))
        answer = {"accept": "accepted", "reject": "rejected"}
        out: list[Handoff] = []
        open_by_lead: dict[int, Handoff] = {}
        for row in sorted(history, key=lambda r: (r.lead_id, r.occurred_at)):
            h = open_by_lead.pop(row.lead_id, None)
            if h is not None and row.from_state == S.MQL:
                h.status = answer.get(row.transition, "closed")
                h.answered_at, h.answered_by, h.reason = row.occurred_at, row.actor, row.reason
                if row.occurred_at > h.due_at:
                    h.breached_at = h.due_at
            if row.to_state == S.MQL:
                h = Handoff(lead_id=row.lead_id, definition=self.definition, qualification=row,
                            team=row.team_after, assignee=row.owner_after, opened_at=row.occurred_at,
                            due_at=row.occurred_at + sla, warn_at=row.occurred_at + sla * 0.75)  # fmt: skip
                if h.due_at < self.now:
                    h.breached_at = h.due_at
                open_by_lead[row.lead_id] = h
                out.append(h)
        return out

    def _plan(self, i: int) -> dict[str, Any]:
        rng = self.rng
        created = self.now - timedelta(days=rng.uniform(1, 92), hours=rng.uniform(0, 23))
        path = rng.choices([p for _, p in PATHS], weights=[w for w, _ in PATHS])[0]
        qualifies = bool(path) and path[0] in ("qualify_mql", "claim")
        surname, given = rng.choice(SURNAMES), rng.choice(GIVEN)
        source, campaign = rng.choice(SOURCES)
        if path and path[0] == "claim":
            source, campaign = "sales_generated", ""
        team_name = rng.choice(["East", "West"])
        fields = {
            "email": f"{i:05d}.{rng.choice(['sato', 'info', 'contact', 'k.tanaka'])}@"
            f"{rng.choice(['example.co.jp', 'demo.jp', 'sample.com', 'gmail.com'])}",
            "last_name": surname[0], "last_name_kana": surname[1],
            "first_name": given[0], "first_name_kana": given[1],
            "company": f"{rng.choice(COMPANIES)}株式会社",
            "title": rng.choice(TITLES[:-1]) if qualifies else rng.choice(TITLES),
            "phone": f"+8136{rng.randint(1000000, 9999999):07d}" if qualifies or rng.random() < 0.6 else "",
            "industry": rng.choice(INDUSTRIES[:4]) if qualifies else rng.choice(INDUSTRIES),
            "company_size": rng.choice([12, 45, 120, 300, 800, 2500]),
            "country": "JP", "source": source, "campaign": campaign,
            "utm_source": "google" if source == "ad" else "", "consent": rng.random() < 0.8,
        }  # fmt: skip
        if "qualify_sql" in path:
            fields |= {
                "decision_maker": True,
                "budget": Decimal(rng.choice([1, 3, 5, 10, 30]) * 1_000_000),
            }
        # The lead's fields as the history sees them; the Lead itself is built last, in its
        # final state (its state field is protected once set).
        draft = SimpleNamespace(
            **{"decision_maker": None, "budget": None, **fields}, timeline=None, attributes={}
        )
        events, score = self._events(created, qualifies, rng)
        state = SimpleNamespace(state=S.LEAD, at=created, team=None, owner=None, recycle_count=0,
                                engagement=score, lead=draft)  # fmt: skip
        history = []
        for step in path:  # a path still under way today stops where it is
            row = self._step(step, state, team_name, events)
            if row is None:
                break
            history.append(row)
        lead = Lead(
            **fields, timeline=draft.timeline, created_at=created,
            **self._final_fields(state),
        )  # fmt: skip
        scores = LeadScore(engagement=Decimal(sum(self._points(e) for e in events)))
        return {"lead": lead, "score": scores, "events": events, "history": history}

    def _events(
        self, start: datetime, qualifies: bool, rng: random.Random
    ) -> tuple[list[Event], int]:
        span = max((self.now - start).total_seconds(), 3600)
        kinds = [
            "page_view:/features",
            "page_view:/blog",
            "page_view:/pricing",
            "document_download",
            "webinar_attended",
        ]
        n = rng.randint(0, 6)
        chosen = [rng.choice(kinds) for _ in range(n)]
        if qualifies:  # enough engagement and a quote request early in the lead's life
            chosen += [
                "page_view:/features",
                "page_view:/features",
                "document_download",
                "document_download",
                "quote_request",
            ]
        events = []
        for j, kind in enumerate(chosen):
            offset = (
                (j + 1) / (len(chosen) + 1) * min(span, 2 * 86400)
                if qualifies
                else rng.uniform(0, span)
            )
            etype, _, url = kind.partition(":")
            events.append(Event(type=etype, occurred_at=start + timedelta(seconds=offset),
                                properties={"url": url} if url else {}))  # fmt: skip
        return events, sum(self._points(e) for e in events)

    @staticmethod
    def _points(e: Event) -> int:
        key = f"{e.type}:{e.properties.get('url', '')}" if e.type == "page_view" else e.type
        return EVENT_POINTS.get(key, 0)

    def _step(
        self, name: str, st: SimpleNamespace, team_name: str, events: list[Event]
    ) -> LeadTransition | None:
        rng = self.rng
        at = st.at + timedelta(days=rng.uniform(0.2, 6))
        if st.state == S.MQL:  # most handoffs are answered within the 24 h SLA, some are not
            at = st.at + timedelta(hours=rng.uniform(0.5, 36))
        if name == "qualify_mql" and st.state == S.LEAD:  # after the first two days' activity
            at = st.at + timedelta(days=2 + rng.uniform(0.1, 6))
        if name == "qualify_mql" and st.state == S.RECYCLED:  # cool-off, then new interest
            at = st.at + timedelta(days=31 + rng.uniform(0.1, 3))
        if at >= self.now:
            return None
        if name == "qualify_mql" and st.state == S.RECYCLED:
            events += [Event(type=t, occurred_at=at - timedelta(hours=h), properties={})
                       for t, h in (("document_download", 30), ("demo_request", 4))]  # fmt: skip
        target = EDGES[(name, st.state)]
        before = (st.state, self.owner_of.get(st.state, "marketing"), st.team, st.owner)
        actor, reason, amount, evaluation = None, "", None, []
        team = self.teams[team_name]
        if name == "qualify_mql":
            st.team, st.owner = team, rng.choice(self.reps[team_name])
            st.recycle_count += st.state == S.RECYCLED
            evaluation = self._evaluate(st, "mql", at, events)
        elif name in ("accept", "claim", "qualify_sql", "disqualify", "win", "lose"):
            if st.owner is None:
                st.team, st.owner = team, rng.choice(self.reps[team_name])
            actor = st.owner
            if name == "qualify_sql":
                st.lead.timeline = (at + timedelta(days=rng.randint(20, 150))).date()
                evaluation = self._evaluate(st, "sql", at, events)
            reason = {"disqualify": "no_budget", "lose": rng.choice(LostReason.values[:4])}.get(
                name, ""
            )
            if name == "win":
                amount = Decimal(rng.choice([0.8, 1.5, 2.4, 4.8, 12]) * 1_000_000).quantize(
                    Decimal(1)
                )
                st.amount = amount
            if name == "lose":
                st.lost_reason = reason
        elif name == "reject":
            actor, reason = st.owner, rng.choice(["icp", "need", "engaged", "contactable"])
        elif name in ("archive", "recycle"):
            actor, reason = self.users["marketing"], "spam" if name == "archive" else ""
        if target in (S.RECYCLED, S.ARCHIVED):
            st.team, st.owner = None, None
            st.reason = reason or "lost"
        st.state, st.at = target, at
        return LeadTransition(
            transition=name, from_state=before[0], to_state=target, actor=actor,
            actor_kind="system" if actor is None else "user",
            responsible_before=before[1], responsible_after=self.owner_of.get(target, "sales"),
            team_before=before[2], team_after=st.team, owner_before=before[3], owner_after=st.owner,
            reason=reason, amount=amount, definition=self.definition, evaluation=evaluation, occurred_at=at,
        )  # fmt: skip

    def _evaluate(
        self, st: SimpleNamespace, stage: str, at: datetime, events: list[Event]
    ) -> list[dict[str, Any]]:
        past = [e for e in events if e.occurred_at <= at]
        view = SimpleNamespace(**{f: getattr(st.lead, f) for f in (
            "email", "company", "phone", "title", "industry", "decision_maker", "budget", "timeline", "attributes")},
            fit_score=Decimal(0), engagement_score=Decimal(sum(self._points(e) for e in past)))  # fmt: skip

        def activity(types: list[str], since: datetime) -> int:
            return sum(1 for e in past if e.type in types and e.occurred_at >= since)

        return evaluate_stage(view, self.definition.document, stage, now=at, activity=activity)

    def _final_fields(self, st: SimpleNamespace) -> dict[str, Any]:
        out: dict[str, Any] = {
            "state": st.state, "state_changed_at": st.at, "team": st.team, "owner": st.owner,
            "responsible": self.owner_of.get(st.state, "marketing"), "recycle_count": st.recycle_count,
        }  # fmt: skip
        if st.state != S.LEAD:
            out["definition"] = self.definition
        if st.state in (S.RECYCLED, S.ARCHIVED):
            key = "archive_reason" if st.state == S.ARCHIVED else "recycle_reason"
            out[key] = st.reason
            if st.state == S.RECYCLED:
                out["recyclable_at"] = st.at + timedelta(days=30)
        if st.state == S.WON:
            out["won_amount"] = st.amount
        if st.state == S.LOST:
            out["lost_reason"], out["recyclable_at"] = st.lost_reason, st.at + timedelta(days=90)
        return out
