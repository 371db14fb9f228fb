"""Analytics figures for `make bench`: the funnel report's p50/p95 over a generated history, and
one timed backtest over a year of events. Run on the data the main bench generated."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.db import connection

from bench.data import copy_rows

PATHS = [  # transitions after intake; weights give ~4.95 history rows per lead (5M at 1M leads)
    (5, []), (5, ["qualify_mql", "reject"]), (15, ["qualify_mql", "reject", "qualify_mql", "accept"]),
    (25, ["qualify_mql", "reject", "qualify_mql", "accept", "qualify_sql"]),
    (25, ["qualify_mql", "reject", "qualify_mql", "accept", "qualify_sql", "win"]),
    (25, ["qualify_mql", "reject", "qualify_mql", "accept", "qualify_sql", "lose"]),
]  # fmt: skip
COLS = ["lead_id", "transition", "from_state", "to_state", "actor_kind", "responsible_before", "responsible_after",
        "reason", "note", "override", "definition_id", "evaluation", "amount", "occurred_at",
        "team_before_id", "team_after_id", "owner_before_id", "owner_after_id"]  # fmt: skip
CRITERIA = ["engaged", "icp", "contactable", "need"]  # the demo definition's MQL criteria
REJECT_WEIGHTS = [4, 3, 1, 2]  # how often sales cites each when it rejects


def _evaluation(rng: random.Random) -> tuple[str, bool]:
    """What the qualification stored: every criterion passed, or (1 in 20) one failed and the
    COO overrode it."""
    failed = rng.choice(CRITERIA) if rng.random() < 0.05 else None
    items = [{"code": c, "kind": "score_at_least", "passed": c != failed, "observed": 1,
              "expected": {"value": 1}} for c in CRITERIA]  # fmt: skip
    return json.dumps(items), failed is not None


def generate_history(definition_id: int, seed: int = 3) -> int:
    """Each lead walks one of `PATHS` from its creation, a step every 0.2–9 days, stopping at
    today: the transitions (with the evaluations the qualifications stored, rejections citing
    criteria, won amounts), then the handoff of each qualification and the leads' states."""
    from django.utils import timezone

    from leads.lifecycle import EDGES

    rng = random.Random(seed)
    weights = [w for w, _ in PATHS]
    owner = {"lead": "marketing", "recycled": "marketing"}
    now = timezone.now()

    with connection.cursor() as cursor:  # before the COPY: the connection is busy during it
        cursor.execute("SELECT id, created_at FROM leads_lead ORDER BY id")
        leads = cursor.fetchall()
    slots = _reps()  # lead id % 10 -> (team, rep)
    owned = {
        "mql": (True, False),
        "sal": (True, True),
        "sql": (True, True),
        "won": (True, True),
        "lost": (True, True),
    }  # state -> (has the team, has the owner)

    def rows() -> Iterator[tuple[Any, ...]]:
        for lead_id, created in leads:
            state, at = "lead", created
            for name in rng.choices([p for _, p in PATHS], weights)[0]:
                # Sales answers a handoff within 1–30 hours; other steps take 0.2–9 days.
                answer = name in ("accept", "reject")
                at = at + timedelta(hours=rng.uniform(1, 30) if answer else rng.uniform(5, 216))
                if at >= now:
                    break
                target = EDGES[(name, state)]
                evaluation, override = _evaluation(rng) if name == "qualify_mql" else ("[]", False)
                reason = {"reject": rng.choices(CRITERIA, REJECT_WEIGHTS)[0], "lose": "price"}
                amount = rng.randrange(1, 100) * 100_000 if name == "win" else None
                team, rep = slots[lead_id % 10]
                (team_b, rep_b), (team_a, rep_a) = (
                    owned.get(s, (False, False)) for s in (state, target)
                )
                yield (lead_id, name, state, target, "user" if name != "qualify_mql" else "system",
                       owner.get(state, "sales"), owner.get(target, "sales"), reason.get(name, ""),
                       "", override, definition_id, evaluation, amount, at,
                       team if team_b else None, team if team_a else None,
                       rep if rep_b else None, rep if rep_a else None)  # fmt: skip
                state = target

    copied = copy_rows("leads_leadtransition", COLS, rows())
    _handoffs_and_states(slots)
    return copied


def _reps() -> dict[int, tuple[int, int]]:
    from accounts.services import user_add

    reps = [
        user_add(username=f"bench-rep{i}", role="sales", team=f"Bench {i % 2}") for i in range(10)
    ]
    return {i: (rep.team_memberships.get().team_id, rep.pk) for i, rep in enumerate(reps)}


def _handoffs_and_states(slots: dict[int, tuple[int, int]]) -> None:
    """Set-based: a handoff per qualification, answered by the accept or reject after it (24 h
    SLA; breached when answered late, still open when nothing answered yet), spread over two
    teams of five reps; each lead's state, team and owner as its last transition left them."""
    pairs = ", ".join(f"({i}, {team}, {rep})" for i, (team, rep) in slots.items())
    with connection.cursor() as cursor:
        cursor.execute(f"""
            CREATE TEMP TABLE bench_reps (slot int, team_id bigint, user_id bigint);
            INSERT INTO bench_reps VALUES {pairs};
            INSERT INTO handoff_handoff (lead_id, stage, definition_id, qualification_id, team_id,
                assignee_id, status, opened_at, due_at, warn_at, warned_at, breached_at,
                reassign_count, answered_at, answered_by_id, reason, note, created_at, updated_at)
            SELECT t.lead_id, 'mql', t.definition_id, t.id, r.team_id, r.user_id,
                   CASE t.next_name WHEN 'accept' THEN 'accepted' WHEN 'reject' THEN 'rejected'
                        ELSE 'open' END,
                   t.occurred_at, t.occurred_at + interval '24 hours',
                   t.occurred_at + interval '18 hours', NULL,
                   CASE WHEN COALESCE(t.next_at, now()) > t.occurred_at + interval '24 hours'
                        THEN t.occurred_at + interval '24 hours' END,
                   0, t.next_at, CASE WHEN t.next_at IS NOT NULL THEN r.user_id END,
                   CASE t.next_name WHEN 'reject' THEN t.next_reason ELSE '' END, '',
                   t.occurred_at, COALESCE(t.next_at, t.occurred_at)
            FROM (SELECT h.*, lead(transition) OVER w AS next_name,
                         lead(occurred_at) OVER w AS next_at, lead(reason) OVER w AS next_reason
                  FROM leads_leadtransition h
                  WINDOW w AS (PARTITION BY lead_id ORDER BY occurred_at)) t
            JOIN bench_reps r ON r.slot = t.lead_id % 10
            WHERE t.transition = 'qualify_mql';
            UPDATE leads_lead l SET state = h.to_state, responsible = h.responsible_after,
                   state_changed_at = h.occurred_at, won_amount = h.amount,
                   team_id = CASE WHEN h.responsible_after = 'sales' THEN r.team_id END,
                   owner_id = CASE WHEN h.to_state IN ('sal', 'sql', 'won', 'lost')
                                   THEN r.user_id END
            FROM (SELECT DISTINCT ON (lead_id) lead_id, to_state, responsible_after, occurred_at,
                         amount
                  FROM leads_leadtransition ORDER BY lead_id, occurred_at DESC) h
            JOIN bench_reps r ON TRUE
            WHERE l.id = h.lead_id AND r.slot = l.id % 10;
            DROP TABLE bench_reps;
        """)


def prepare(coo_username: str = "bench-coo") -> dict[str, Any]:
    """A COO, the demo definition published, and the generated history with its stage entries,
    funnel rollups and figure rollups rebuilt (as after a load: `manage.py rebuild_reports`)."""

    from accounts.services import user_add
    from analytics.figures import figures_rebuild
    from bench.data import analyze
    from leads.management.commands.seed_demo import DEMO_DEFINITION
    from leads.models import LeadTransition
    from leads.selectors import definition_published
    from leads.services.definitions import definition_create, definition_publish
    from leads.services.stage_entries import stage_entries_rebuild, stage_rollups_rebuild

    coo = user_add(username=coo_username, role="coo")
    published = definition_published() or definition_publish(
        definition_id=definition_create(name="bench", document=DEMO_DEFINITION, actor=coo).pk
    )
    started = time.perf_counter()
    if not LeadTransition.objects.exists():
        generate_history(published.pk)
        _lanes()
        stage_entries_rebuild()
        stage_rollups_rebuild()
        figures_rebuild()
        analyze()
        with connection.cursor() as cursor:
            for table in (
                "leads_leadtransition",
                "leads_stageentry",
                "leads_stagerollup",
                "handoff_handoff",
                "analytics_figurerollup",
            ):
                cursor.execute(f"VACUUM (ANALYZE) {table}")
    return {"coo": coo, "definition": published, "history_rows": LeadTransition.objects.count(),
            "history_s": time.perf_counter() - started}  # fmt: skip


def _lanes() -> None:
    """Each generated lead's lane from its history: the migration that fills them in."""
    import importlib

    backfill = importlib.import_module("leads.migrations.0016_lead_lane_backfill").BACKFILL
    with connection.cursor() as cursor:
        cursor.execute(backfill)


def backtest_seconds(coo: Any) -> dict[str, Any]:
    """A draft with a stricter engagement threshold, replayed over a year of events."""
    from analytics.backtest import backtest
    from analytics.periods import period_from
    from leads.management.commands.seed_demo import DEMO_DEFINITION
    from leads.services.definitions import definition_create

    doc = json.loads(json.dumps(DEMO_DEFINITION))
    doc["stages"]["mql"]["criteria"][0]["params"]["value"] = 30
    draft = definition_create(name="bench draft", document=doc, actor=coo)
    started = time.perf_counter()
    result = backtest(definition=draft, period=period_from({}, default_days=365))
    return {"seconds": time.perf_counter() - started, "would_be_mqls": result["draft"]["mqls"]}


def advisor_seconds() -> dict[str, Any]:
    """The advisor report over the last 90 days computed anew (`fresh`), timed once for the COO
    (every lead), for a manager of the first bench team and for one of its reps (SPEC §14)."""
    from django.contrib.auth import get_user_model

    from accounts.services import user_add
    from analytics.advisor import advisor_figures
    from analytics.periods import period_from
    from leads.selectors import definition_published

    def once(user: Any) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        report = advisor_figures(period=period_from({}), stage="mql", user=user,
                                 definition=definition_published(), fresh=True)  # fmt: skip
        return time.perf_counter() - started, report

    users = get_user_model().objects
    seconds, report = once(users.get(username="bench-coo"))
    manager = users.filter(username="bench-manager0").first() or user_add(
        username="bench-manager0", role="sales_manager", team="Bench 0"
    )
    return {
        "seconds": seconds, "leads": report["leads"], "manager_s": once(manager)[0],
        "rep_s": once(users.get(username="bench-rep0"))[0],
    }  # fmt: skip


def advisor_nightly_seconds() -> dict[str, Any]:
    """The advisor's nightly pass with nobody having asked yet: the default period for every
    lead, both stages (what the COO's page then reads)."""
    from analytics.advisor import advisor_nightly

    started = time.perf_counter()
    reports = advisor_nightly()
    return {"seconds": time.perf_counter() - started, "reports": reports}


def prediction_in_child(root: Any, env: dict[str, str]) -> dict[str, Any]:
    """The nightly training and scoring of every lead, in a fresh process (its peak RSS is the
    worker's)."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "bench.prediction_child"], cwd=root, env=env,
                          capture_output=True, text=True, check=True)  # fmt: skip
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def rescore_cost(n: int = 300) -> dict[str, Any]:
    """What the predictive score adds to a lead's rescore: `n` leads each rescored with the
    model and without it (its step left out), alternately and in turn first, and the step
    alone."""
    import statistics

    from analytics import prediction
    from leads.models import Lead
    from scoring.services import rescore_followers, score_leads

    top = Lead.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    ids = random.Random(5).sample(range(1, top + 1), n)
    assert prediction.active_model() is not None, "train first"
    saved = list(rescore_followers)

    def timed_ms(fn: Any) -> float:
        started = time.perf_counter()
        fn()
        return (time.perf_counter() - started) * 1000

    def without(lead_id: int) -> float:
        rescore_followers.clear()
        try:
            return timed_ms(lambda: score_leads(lead_ids=[lead_id]))
        finally:
            rescore_followers.extend(saved)

    with_model, without_model, step = [], [], []
    for k, lead_id in enumerate(ids):
        if k % 2:
            with_model.append(timed_ms(lambda i=lead_id: score_leads(lead_ids=[i])))
            without_model.append(without(lead_id))
        else:
            without_model.append(without(lead_id))
            with_model.append(timed_ms(lambda i=lead_id: score_leads(lead_ids=[i])))
        step.append(timed_ms(lambda i=lead_id: _in_rolled_back_transaction(
            lambda: prediction.rescore(ids=[i]))))  # fmt: skip

    def summary(ms: list[float]) -> dict[str, float]:
        ms = sorted(ms)
        return {"p50_ms": statistics.median(ms), "p95_ms": ms[int(0.95 * (len(ms) - 1))]}

    return {"with": summary(with_model), "without": summary(without_model),
            "step": summary(step)}  # fmt: skip


def _in_rolled_back_transaction(fn: Any) -> None:
    """`fn` inside a transaction that is rolled back: its work without a commit of its own (in
    a rescore it shares the rescore's commit)."""
    from django.db import transaction

    with transaction.atomic():
        fn()
        transaction.set_rollback(True)
