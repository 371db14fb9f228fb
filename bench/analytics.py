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


def prepare(coo_username: str = "bench-coo") -> dict[str, Any]:
    """A COO, the demo definition published, and the generated history with its stage entries
    and funnel rollups rebuilt (as after a load: `manage.py rebuild_reports`)."""

    from accounts.services import user_add
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
        stage_entries_rebuild()
        stage_rollups_rebuild()
        analyze()
        with connection.cursor() as cursor:
            for table in ("leads_leadtransition", "leads_stageentry", "leads_stagerollup"):
                cursor.execute(f"VACUUM (ANALYZE) {table}")
    return {"coo": coo, "definition": published, "history_rows": LeadTransition.objects.count(),
            "history_s": time.perf_counter() - started}  # fmt: skip


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
