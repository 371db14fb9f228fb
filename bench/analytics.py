"""Analytics figures for `make bench`: the funnel report's p50/p95 over a generated history, and
one timed backtest over a year of events. Run on the data the main bench generated."""

from __future__ import annotations

import json
import random
import statistics
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.db import connection

from bench.data import copy_rows

PATHS = [  # transitions after intake; weights give ~4.4 history rows per lead
    (10, []), (10, ["qualify_mql", "reject"]), (20, ["qualify_mql", "reject", "qualify_mql", "accept"]),
    (20, ["qualify_mql", "reject", "qualify_mql", "accept", "qualify_sql"]),
    (20, ["qualify_mql", "reject", "qualify_mql", "accept", "qualify_sql", "win"]),
    (20, ["qualify_mql", "reject", "qualify_mql", "accept", "qualify_sql", "lose"]),
]  # fmt: skip
COLS = ["lead_id", "transition", "from_state", "to_state", "actor_kind", "responsible_before", "responsible_after",
        "reason", "note", "override", "definition_id", "evaluation", "occurred_at"]  # fmt: skip


def generate_history(definition_id: int, seed: int = 3) -> int:
    from leads.lifecycle import EDGES

    rng = random.Random(seed)
    weights = [w for w, _ in PATHS]
    owner = {"lead": "marketing", "recycled": "marketing"}

    with connection.cursor() as cursor:  # before the COPY: the connection is busy during it
        cursor.execute("SELECT id, created_at FROM leads_lead ORDER BY id")
        leads = cursor.fetchall()

    def rows() -> Iterator[tuple[Any, ...]]:
        for lead_id, created in leads:
            state, at = "lead", created
            for name in rng.choices([p for _, p in PATHS], weights)[0]:
                target = EDGES[(name, state)]
                at = at + timedelta(days=rng.uniform(0.2, 9))
                reason = {"reject": "icp", "lose": "price"}.get(name, "")
                yield (lead_id, name, state, target, "user" if name != "qualify_mql" else "system",
                       owner.get(state, "sales"), owner.get(target, "sales"), reason, "", False,
                       definition_id, "[]", at)  # fmt: skip
                state = target

    return copy_rows("leads_leadtransition", COLS, rows())


def run(report: dict[str, Any]) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from accounts.services import user_add
    from bench.data import analyze
    from leads.management.commands.seed_demo import DEMO_DEFINITION
    from leads.models import LeadTransition
    from leads.selectors import definition_published
    from leads.services.definitions import definition_create, definition_publish

    coo, _ = get_user_model().objects.get_or_create(username="bench-coo")
    user_add(username=coo.username, role="coo")
    published = definition_published() or definition_publish(
        definition_id=definition_create(name="bench", document=DEMO_DEFINITION, actor=coo).pk
    )
    if not LeadTransition.objects.exists():
        generate_history(published.pk)
        from leads.services.stage_entries import stage_entries_rebuild, stage_rollups_rebuild

        stage_entries_rebuild()
        stage_rollups_rebuild()
        analyze()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) leads_leadtransition")
            cursor.execute("VACUUM (ANALYZE) leads_stageentry")
            cursor.execute("VACUUM (ANALYZE) leads_stagerollup")
    n = LeadTransition.objects.count()
    client = Client(HTTP_HOST="localhost")
    client.force_login(coo)
    timings: dict[str, list[float]] = {}
    for label, query in (("funnel", ""), ("funnel_by_source", "?group_by=source")):
        runs = []
        for _ in range(20):
            started = time.perf_counter()
            response = client.get(f"/api/v1/reports/funnel/{query}")
            runs.append(time.perf_counter() - started)
            assert response.status_code == 200, response.content[:300]
        timings[label] = runs
    doc = json.loads(json.dumps(DEMO_DEFINITION))
    doc["stages"]["mql"]["criteria"][0]["params"]["value"] = 30
    draft = definition_create(name="bench draft", document=doc, actor=coo)
    from analytics.backtest import backtest
    from analytics.periods import period_from

    started = time.perf_counter()
    result = backtest(definition=draft, period=period_from({}, default_days=365))
    report["analytics"] = {
        "history_rows": n,
        **{f"{k}_p50_ms": statistics.median(v) * 1000 for k, v in timings.items()},
        **{f"{k}_p95_ms": statistics.quantiles(v, n=20)[18] * 1000 for k, v in timings.items()},
        "backtest_s": time.perf_counter() - started,
        "backtest_would_be_mqls": result["draft"]["mqls"],
    }
