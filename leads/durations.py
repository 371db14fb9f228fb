"""Time spent in a stage as a histogram bucket, and percentiles read back from histograms.

The funnel's median and p80 days come from daily rollups (`leads.models.StageRollup`), which
cannot keep every duration. They keep a count per bucket instead: bucket 0 holds stays under a
minute, bucket b ≥ 1 holds [60·R^(b−1), 60·R^b) seconds with R = 1.02, so any percentile read
back lies within 2% of the exact one (a year is bucket ~780). The same buckets serve every path
(rollups, the raw entries of partial days, a rep's own figures), so they agree with each other.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from django.conf import settings

from leads.choices import LeadState

S = LeadState
RATIO = 1.02
OPEN = -1  # the bucket of entries that have not left their stage yet

# The waterfall: an entry converts when the lead's next state is one of these (an SGL's claim
# skips mql, a TGL's claim skips it for tal; an MQL goes to field sales, or to inside sales when
# the definition has the IS stages). Only these stages are rolled up and reported.
WATERFALL_NEXT: dict[str, tuple[str, ...]] = {
    S.LEAD: (S.MQL, S.SAL, S.TAL),
    S.MQL: (S.SAL, S.TAL),
    S.TAL: (S.TQL,),
    S.TQL: (S.SAL,),
    S.SAL: (S.SQL,),
    S.SQL: (S.WON,),
    S.WON: (),
}
WATERFALL = list(WATERFALL_NEXT)


def bucket_of(seconds: float, ratio: float = RATIO) -> int:
    if seconds < 60:
        return 0
    return 1 + math.floor(math.log(seconds / 60.0) / math.log(ratio))


def bucket_sql(seconds_sql: str, ratio: float = RATIO) -> str:
    """The same bucket in PostgreSQL, for an SQL expression of seconds."""
    return (
        f"(CASE WHEN ({seconds_sql}) < 60 THEN 0 "
        f"ELSE 1 + floor(ln(({seconds_sql}) / 60.0) / {math.log(ratio)!r})::int END)"
    )


def bucket_bounds(bucket: int, ratio: float = RATIO) -> tuple[float, float]:
    if bucket <= 0:
        return 0.0, 60.0
    return 60.0 * ratio ** (bucket - 1), 60.0 * ratio**bucket


def percentile(histogram: Mapping[int, int], q: float, ratio: float = RATIO) -> float | None:
    """The q-quantile in seconds, interpolated between the two order statistics around rank
    q·(n−1) like `percentile_cont`; each order statistic is placed evenly within its bucket, so
    the result is within one bucket width (2%, or `ratio` − 1) of the exact value."""
    counts = sorted((b, n) for b, n in histogram.items() if b != OPEN and n > 0)
    total = sum(n for _, n in counts)
    if not total:
        return None

    def order_statistic(i: int) -> float:
        seen = 0
        for bucket, n in counts:
            if i < seen + n:
                lo, hi = bucket_bounds(bucket, ratio)
                return lo + (hi - lo) * (i - seen + 0.5) / n
            seen += n
        return bucket_bounds(counts[-1][0], ratio)[1]  # not reached: i < total

    rank = q * (total - 1)
    below = math.floor(rank)
    low = order_statistic(below)
    if below + 1 >= total:
        return low
    return low + (rank - below) * (order_statistic(below + 1) - low)


def is_reentry(from_state: str, to_state: str) -> bool:
    """An entry into a stage the lead was in before: back from recycled (into mql, or tal for a
    TGL), or a TQL sent back to inside sales (into tal). The funnel counts them apart from
    first entries, so a lead is one TAL however often field sales returns it."""
    return from_state == S.RECYCLED or (from_state == S.TQL and to_state == S.TAL)


def is_converted(stage: str, next_state: str) -> bool:
    return next_state in WATERFALL_NEXT.get(stage, ())


def report_zone() -> ZoneInfo:
    """Rollup days are calendar days in the configured time zone."""
    return ZoneInfo(settings.TIME_ZONE)
