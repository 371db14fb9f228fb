"""What the figure rollups hold: the rollup rows plus the pending deltas, summed per key."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any


def kept() -> dict[tuple[Any, ...], tuple[Any, ...]]:
    from analytics.models import FigureDelta, FigureRollup

    out: dict[tuple[Any, ...], list[Any]] = defaultdict(lambda: [0, 0, 0, Decimal(0)])
    for model in (FigureRollup, FigureDelta):
        for *key, n, leads, won, amount in model.objects.values_list(
            "day", "figure", "definition_id", "team_id", "rep_id", "key", "key2",
            "n", "leads", "won", "amount",
        ):  # fmt: skip
            acc = out[tuple(key)]
            for i, v in enumerate((n, leads, won, amount)):
                acc[i] += v
    return {k: tuple(v) for k, v in out.items() if any(v)}
