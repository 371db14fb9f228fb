"""The inside-sales report (SPEC §13): per IS team and rep, what IS received, how fast it
touched it, how much it worked it and what field sales made of its TQLs.

Three sets of rows feed it, each read with GROUP BY in the database (a histogram of response
times is the only thing built in Python, one bucket count per row, as in `handoff_report`):

* the **MQL handoffs to IS teams** opened in the period: received, accepted, rejected (by
  criterion), and speed to lead, the time from the handoff's opening to its assignee's first
  activity on the lead. Median and p80 are over the handoffs touched; the share within an hour is
  over every handoff received (one never touched is not within the hour);
* the **TQL handoffs** opened in the period, credited to the IS rep who qualified the lead
  (`qualify_tql`'s actor and team): TQLs, accepted and rejected by field sales (by criterion),
  the activities logged on the lead before it was handed over (per TQL), and the won revenue of
  the accepted ones;
* the **activities** logged in the period by IS reps: activities, calls and connected calls.

A rep sees their own rows, a manager their teams', marketing and the COO every team's.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce

from accounts.models import TeamMembership
from analytics.selectors import scoped
from handoff.choices import HandoffStatus
from handoff.models import Handoff
from leadflow.choices import Function
from leads.choices import LeadState, TransitionName
from leads.durations import bucket_of, percentile
from leads.models import Event, LeadTransition
from leads.services.activities import ACTIVITY_PREFIX

if TYPE_CHECKING:
    from analytics.periods import Period
    from leadflow.types import Caller

WITHIN = timedelta(hours=1)
COUNTS = (
    "mqls_received", "accepted", "rejected", "touched", "touched_within_1h",
    "tqls", "tqls_accepted", "tqls_rejected", "activities_before_tql",
    "activities", "calls", "connected_calls",
)  # fmt: skip


@dataclass
class _Figures:
    counts: Counter[str] = field(default_factory=Counter)
    speed: Counter[int] = field(default_factory=Counter)  # response-time buckets
    rejections: Counter[str] = field(default_factory=Counter)
    tql_rejections: Counter[str] = field(default_factory=Counter)
    won_revenue: Decimal = Decimal(0)

    def add(self, other: _Figures) -> None:
        self.counts.update(other.counts)
        self.speed.update(other.speed)
        self.rejections.update(other.rejections)
        self.tql_rejections.update(other.tql_rejections)
        self.won_revenue += other.won_revenue


def _first_touch() -> Subquery:
    """When the handoff's assignee first logged an activity on its lead, from its opening on."""
    return Subquery(
        Event.objects.filter(
            lead_id=OuterRef("lead_id"),
            type__startswith=ACTIVITY_PREFIX,
            occurred_at__gte=OuterRef("opened_at"),
        )
        .annotate(actor=Cast(KT("properties__actor"), IntegerField()))
        .filter(actor=OuterRef("assignee_id"))
        .order_by("occurred_at")
        .values("occurred_at")[:1]
    )


def _mql_handoffs(acc: dict[tuple[Any, Any], _Figures], period: Period, user: Caller) -> None:
    base = scoped(
        Handoff.objects.filter(
            stage=LeadState.MQL, team__function=Function.INSIDE_SALES,
            opened_at__gte=period.start, opened_at__lt=period.end,
        ),
        user, rep="assignee_id", team="team_id",
    )  # fmt: skip
    for row in (
        base.values("team_id", "assignee_id")
        .annotate(
            mqls_received=Count("id"),
            accepted=Count("id", filter=Q(status=HandoffStatus.ACCEPTED)),
            rejected=Count("id", filter=Q(status=HandoffStatus.REJECTED)),
        )
        .order_by()
    ):
        acc[(row["team_id"], row["assignee_id"])].counts.update(
            {k: row[k] for k in ("mqls_received", "accepted", "rejected")}
        )
    for team_id, rep_id, reason, n in (
        base.filter(status=HandoffStatus.REJECTED)
        .values_list("team_id", "assignee_id", "reason")
        .annotate(n=Count("id"))
        .order_by()
    ):
        acc[(team_id, rep_id)].rejections[reason] += n
    touched = (
        base.filter(assignee_id__isnull=False)
        .annotate(touch=_first_touch())
        .filter(touch__isnull=False)
        .annotate(wait=ExpressionWrapper(F("touch") - F("opened_at"), output_field=DurationField()))
    )
    for team_id, rep_id, wait in touched.values_list("team_id", "assignee_id", "wait").iterator():
        f = acc[(team_id, rep_id)]
        f.counts["touched"] += 1
        f.counts["touched_within_1h"] += wait <= WITHIN
        f.speed[bucket_of(wait.total_seconds())] += 1


def _tql_handoffs(acc: dict[tuple[Any, Any], _Figures], period: Period, user: Caller) -> None:
    base = scoped(
        Handoff.objects.filter(
            stage=LeadState.TQL, qualification__isnull=False,
            opened_at__gte=period.start, opened_at__lt=period.end,
        ),
        user, rep="qualification__actor_id", team="qualification__team_before_id",
    )  # fmt: skip
    keys = ("qualification__team_before_id", "qualification__actor_id")
    before = (
        Event.objects.filter(
            lead_id=OuterRef("lead_id"),
            type__startswith=ACTIVITY_PREFIX,
            occurred_at__lt=OuterRef("opened_at"),
        )
        .order_by()
        .values("lead_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    won = (
        LeadTransition.objects.filter(lead_id=OuterRef("lead_id"), transition=TransitionName.WIN)
        .order_by("-occurred_at", "-id")
        .values("amount")[:1]
    )
    rows = (
        base.annotate(before=Coalesce(Subquery(before), Value(0), output_field=IntegerField()))
        .annotate(won=Subquery(won))  # the amount of the lead's last win
        .values(*keys)
        .annotate(
            tqls=Count("id"),
            tqls_accepted=Count("id", filter=Q(status=HandoffStatus.ACCEPTED)),
            tqls_rejected=Count("id", filter=Q(status=HandoffStatus.REJECTED)),
            activities_before_tql=Sum("before"),
            won_revenue=Sum(
                "won",
                filter=Q(status=HandoffStatus.ACCEPTED, lead__state=LeadState.WON),
            ),
        )
        .order_by()
    )
    for row in rows:
        f = acc[(row[keys[0]], row[keys[1]])]
        f.counts.update({
            k: row[k] or 0
            for k in ("tqls", "tqls_accepted", "tqls_rejected", "activities_before_tql")
        })  # fmt: skip
        f.won_revenue += row["won_revenue"] or Decimal(0)
    for team_id, rep_id, reason, n in (
        base.filter(status=HandoffStatus.REJECTED)
        .values_list(*keys, "reason")
        .annotate(n=Count("id"))
        .order_by()
    ):
        acc[(team_id, rep_id)].tql_rejections[reason] += n


def _activities(acc: dict[tuple[Any, Any], _Figures], period: Period, user: Caller) -> None:
    """Activities by IS reps, each credited to the rep's IS team."""
    members = TeamMembership.objects.filter(team__function=Function.INSIDE_SALES)
    team_of = dict(members.values_list("user_id", "team_id").order_by("user_id", "-team_id"))
    actors = scoped(members, user, rep="user_id", team="team_id").values_list("user_id", flat=True)
    rows = (
        Event.objects.filter(
            type__startswith=ACTIVITY_PREFIX,
            occurred_at__gte=period.start, occurred_at__lt=period.end,
        )
        .annotate(actor=Cast(KT("properties__actor"), IntegerField()))
        .filter(actor__in=actors)
        .values("actor")
        .annotate(
            activities=Count("id"),
            calls=Count("id", filter=Q(type=f"{ACTIVITY_PREFIX}call")),
            connected_calls=Count(
                "id", filter=Q(type=f"{ACTIVITY_PREFIX}call", properties__outcome="connected")
            ),
        )
        .order_by()
    )  # fmt: skip
    for row in rows:
        rep_id = int(row["actor"])
        acc[(team_of.get(rep_id), rep_id)].counts.update(
            {k: row[k] for k in ("activities", "calls", "connected_calls")}
        )


def _ratio(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _row(team: Any, rep: Any, f: _Figures) -> dict[str, Any]:
    c = f.counts
    return {
        "team": team, "rep": rep,
        "mqls_received": c["mqls_received"], "accepted": c["accepted"], "rejected": c["rejected"],
        "rejections_by_criterion": dict(sorted(f.rejections.items())),
        "speed_to_lead": {
            "touched": c["touched"],
            "median_hours": _hours(percentile(f.speed, 0.5)),
            "p80_hours": _hours(percentile(f.speed, 0.8)),
            "share_within_1h": _ratio(c["touched_within_1h"], c["mqls_received"]),
        },
        "activities": c["activities"], "calls": c["calls"],
        "connect_rate": _ratio(c["connected_calls"], c["calls"]),
        "tqls": c["tqls"],
        "activities_per_tql": _ratio(c["activities_before_tql"], c["tqls"]),
        "tql_rate": _ratio(c["tqls"], c["accepted"]),
        "tqls_accepted": c["tqls_accepted"], "tqls_rejected": c["tqls_rejected"],
        "tql_rejections_by_criterion": dict(sorted(f.tql_rejections.items())),
        "won_revenue": f.won_revenue,
    }  # fmt: skip


def _none_last(team: Any) -> tuple[bool, int]:
    return team is None, team or 0


def inside_sales_report(*, period: Period, user: Caller) -> dict[str, Any]:
    reps: dict[tuple[Any, Any], _Figures] = defaultdict(_Figures)
    _mql_handoffs(reps, period, user)
    _tql_handoffs(reps, period, user)
    _activities(reps, period, user)
    teams: dict[Any, _Figures] = defaultdict(_Figures)
    for (team, _rep), f in reps.items():
        teams[team].add(f)
    order = sorted(reps, key=lambda k: (k[0] is None, k[0] or 0, k[1] is None, k[1] or 0))
    return {
        "teams": [_row(t, None, teams[t]) for t in sorted(teams, key=_none_last)],
        "reps": [_row(t, r, reps[(t, r)]) for t, r in order],
    }
