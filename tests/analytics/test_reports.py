"""Reports on a generated history, each figure checked against plain Python over the same rows."""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest

from handoff.models import Handoff
from leads.models import Definition, Lead, LeadTransition

# SPEC §13's waterfall: an SGL's claim goes lead → sal, a TGL's lead → tal; an MQL goes to
# field sales (sal) or inside sales (tal), which hands TQLs to field sales.
NEXT = {"lead": {"mql", "sal", "tal"}, "mql": {"sal", "tal"}, "tal": {"tql"}, "tql": {"sal"},
        "sal": {"sql"}, "sql": {"won"}}  # fmt: skip


def expected_funnel(group: Any = None) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Straightforward: every stage entry, its next row, in Python; keyed (stage, reentry), or
    (group(lead), stage, reentry) with `group`."""
    rows = defaultdict(list)
    for t in LeadTransition.objects.order_by("occurred_at", "id"):
        rows[t.lead_id].append(t)
    out: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(
        lambda: {"entered": 0, "converted": 0, "days": []}
    )
    for lead in Lead.objects.all():
        hist = rows[lead.pk]
        entries = [("lead", 0, lead.created_at)] + [
            (
                t.to_state,
                int(t.from_state == "recycled" or (t.from_state, t.to_state) == ("tql", "tal")),
                t.occurred_at,
            )
            for t in hist
        ]
        nexts = [*hist, None]
        for (stage, re, when), nxt in zip(entries, nexts, strict=True):
            if stage not in NEXT and stage != "won":
                continue
            b = out[(stage, re) if group is None else (group(lead), stage, re)]
            b["entered"] += 1
            if nxt is not None:
                b["converted"] += nxt.to_state in NEXT.get(stage, set())
                b["days"].append((nxt.occurred_at - when).total_seconds() / 86400)
    return out


def test_funnel_matches_a_plain_computation(history: dict[str, Any], client_for: Any) -> None:
    body = client_for("coo").get("/api/v1/reports/funnel/", history).json()
    expected = expected_funnel()
    assert [s["stage"] for s in body["stages"]] == [
        "lead",
        "mql",
        "tal",
        "tql",
        "sal",
        "sql",
        "won",
    ]
    for s in body["stages"]:
        for name, re in (("first", 0), ("reentry", 1)):
            exp, got = expected.get((s["stage"], re)), s[name]
            if exp is None:
                assert got["entered"] == 0
                continue
            assert (got["entered"], got["converted"]) == (exp["entered"], exp["converted"]), (
                s["stage"],
                name,
            )
            if exp["entered"] and s["stage"] != "won":
                assert got["conversion_rate"] == round(exp["converted"] / exp["entered"], 4)
            if s["stage"] == "won":
                assert got["conversion_rate"] is None
            if exp["days"]:
                # Read back from duration buckets 2% wide: within one bucket of the exact value.
                median = statistics.median(exp["days"])
                assert got["median_days"] == pytest.approx(median, rel=0.021, abs=0.01)
                p80 = (
                    statistics.quantiles(exp["days"], n=100, method="inclusive")[79]
                    if len(exp["days"]) > 1
                    else exp["days"][0]
                )
                assert got["p80_days"] == pytest.approx(p80, rel=0.021, abs=0.01)
    mql = next(s for s in body["stages"] if s["stage"] == "mql")
    assert mql["reentry"]["entered"] > 0, "the history has re-entries, counted apart"
    assert (
        mql["first"]["entered"]
        == LeadTransition.objects.filter(to_state="mql", from_state="lead").count()
    )


def test_funnel_by_source_sums_to_the_total(history: dict[str, Any], client_for: Any) -> None:
    total = client_for("coo").get("/api/v1/reports/funnel/", history).json()["stages"]
    groups = (
        client_for("coo")
        .get("/api/v1/reports/funnel/", {**history, "group_by": "source"})
        .json()["groups"]
    )
    assert {g["key"] for g in groups} == {
        "ad", "seminar", "web_form", "sales_generated", "inside_sales_generated"
    }  # fmt: skip
    for i, stage in enumerate(total):
        assert sum(g["stages"][i]["first"]["entered"] for g in groups) == stage["first"]["entered"]
        assert (
            sum(g["stages"][i]["first"]["converted"] for g in groups) == stage["first"]["converted"]
        )


def test_the_funnel_by_lane_counts_each_lanes_entries(history: dict[str, Any],
                                                      client_for: Any) -> None:  # fmt: skip
    """Each lane side by side (SPEC §13): a lead's entries all count in the lane its first move
    into the line gave it, the ones from before that move too; a lead with no lane yet is ""."""
    body = client_for("coo").get("/api/v1/reports/funnel/", {**history, "group_by": "lane"})
    groups = {g["key"]: {s["stage"]: s for s in g["stages"]} for g in body.json()["groups"]}
    assert set(groups) == {"", "mgl", "tgl", "sgl"}
    expected = expected_funnel(lambda lead: lead.lane)
    for lane, stages in groups.items():
        for stage, row in stages.items():
            want = expected.get((lane, stage, 0), {"entered": 0, "converted": 0})
            got = row["first"]
            assert (got["entered"], got["converted"]) == (want["entered"], want["converted"]), (
                lane, stage
            )  # fmt: skip
    assert (
        groups["tgl"]["tal"]["first"]["entered"] == 2 and groups["sgl"]["sal"]["first"]["entered"]
    )
    assert groups[""]["mql"]["first"]["entered"] == 0, "an MQL has its lane"


def test_handoff_report_matches_the_handoff_rows(history: dict[str, Any], client_for: Any) -> None:
    body = client_for("coo").get("/api/v1/reports/handoffs/", history).json()
    by_rep: dict[tuple[int, int], list[Handoff]] = defaultdict(list)
    for h in Handoff.objects.exclude(stage="tal"):  # a TAL's SLA is not answered
        by_rep[(h.team_id, h.assignee_id)].append(h)
    assert len(body["reps"]) == len(by_rep)
    for row in body["reps"]:
        hs = by_rep[(row["team"], row["rep"])]
        assert row["total"] == len(hs)
        assert row["open"] == sum(h.status == "open" for h in hs)
        assert row["accepted"] == sum(h.status == "accepted" for h in hs)
        assert row["rejected"] == sum(h.status == "rejected" for h in hs)
        assert row["breached"] == sum(h.breached_at is not None for h in hs)
        answered = [
            (h.answered_at - h.opened_at).total_seconds() / 3600 for h in hs if h.answered_at
        ]
        if answered:  # read from 5% response-time buckets (like the funnel's durations)
            assert row["median_response_hours"] == pytest.approx(
                statistics.median(answered), rel=0.051, abs=0.01
            )
        reasons = defaultdict(int)
        for h in hs:
            if h.status == "rejected":
                reasons[h.reason] += 1
        assert row["rejections_by_criterion"] == dict(reasons)
    assert sum(t["total"] for t in body["teams"]) == Handoff.objects.exclude(stage="tal").count()


def test_handoff_report_is_scoped_for_a_rep(
    history: dict[str, Any], client_for: Any, users: Any
) -> None:
    body = client_for("rep_b").get("/api/v1/reports/handoffs/", history).json()
    from accounts.models import Team

    assert {r["team"] for r in body["reps"]} <= {Team.objects.get(name="Team B").pk}


def test_attribution_sums(history: dict[str, Any], client_for: Any) -> None:
    body = client_for("coo").get("/api/v1/reports/attribution/", history).json()
    for row in body["first_touch"]:
        leads = Lead.objects.filter(source=row["source"], campaign=row["campaign"])
        won = leads.filter(state="won")
        assert row["leads"] == leads.count()
        assert row["mqls"] == leads.filter(history__to_state="mql").distinct().count()
        assert row["sqls"] == leads.filter(history__to_state="sql").distinct().count()
        assert row["won"] == won.count()
        assert Decimal(str(row["won_amount"])) == sum((lead.won_amount for lead in won), Decimal(0))
    assert sum(r["leads"] for r in body["first_touch"]) == Lead.objects.count()
    assert {r["campaign"] for r in body["last_touch"]} <= {"touch-0", "touch-1", "touch-2"}
    assert (
        sum(r["mqls"] for r in body["last_touch"])
        == Lead.objects.filter(history__to_state="mql").distinct().count()
    )


def test_criteria_report(
    history: dict[str, Any], client_for: Any, published_definition: Definition
) -> None:
    version = published_definition.pk  # the version before inside sales joined
    body = client_for("coo").get("/api/v1/reports/criteria/", {"definition": version}).json()
    assert [c["code"] for c in body["criteria"]] == ["engaged", "icp", "contactable", "need"]
    qualified = set(
        LeadTransition.objects.filter(transition="qualify_mql", definition_id=version)
        .values_list("lead_id", flat=True)
    )  # fmt: skip
    won = set(Lead.objects.filter(state="won").values_list("pk", flat=True))
    for c in body["criteria"]:
        assert c["mqls_passed"] == len(qualified) and c["mqls_failed"] == 0
        assert (
            c["rejections"]
            == LeadTransition.objects.filter(transition="reject", reason=c["code"]).count()
        )
        assert c["won_rate_passed"] == round(len(qualified & won) / len(qualified), 4)
        rejected = set(LeadTransition.objects.filter(transition="reject", reason=c["code"])
                       .values_list("lead_id", flat=True))  # fmt: skip
        assert c["won_rate_rejected"] == (
            round(len(rejected & won) / len(rejected), 4) if rejected else None
        )
        assert c["won_passed_share"] == (1.0 if qualified & won else None), (
            "every win that qualified passed each criterion (no override here)"
        )
    accepted = set(LeadTransition.objects.filter(transition="accept", definition_id=version)
                   .values_list("lead_id", flat=True))  # fmt: skip
    assert body["accepted"] == len(accepted)
    assert body["won_rate_accepted"] == round(len(accepted & won) / len(accepted), 4)


def test_stage_entries_are_kept_in_step_with_the_history(history: dict[str, Any]) -> None:
    from leads.models import StageEntry
    from leads.services.stage_entries import stage_entries_rebuild

    fields = ("lead_id", "stage", "reentry", "entered_at", "left_at", "next_state", "team_id_at_entry",
              "definition_id_at_entry", "source", "campaign", "lane")  # fmt: skip
    kept = sorted(StageEntry.objects.values_list(*fields))
    assert len(kept) == Lead.objects.count() + LeadTransition.objects.count()
    assert StageEntry.objects.filter(left_at__isnull=True).count() == Lead.objects.count(), (
        "one open entry per lead"
    )
    stage_entries_rebuild()
    assert sorted(StageEntry.objects.values_list(*fields)) == kept


def test_recycling_report_matches_the_history(history: dict[str, Any], client_for: Any) -> None:
    body = client_for("coo").get("/api/v1/reports/recycling/", history).json()
    rows = list(LeadTransition.objects.all())
    recycled = [t for t in rows if t.to_state == "recycled"]
    assert body["recycled"] == len(recycled) > 0
    assert body["by_transition"] == {
        name: sum(t.transition == name for t in recycled)
        for name in {t.transition for t in recycled}
    }
    assert {r["reason"]: r["count"] for r in body["by_reason"]} == {
        reason: sum(t.reason == reason for t in recycled) for reason in {t.reason for t in recycled}
    }
    assert body["reentries"] == sum(
        t.from_state == "recycled" and t.to_state == "mql" for t in rows
    )
    ordered = sorted(rows, key=lambda t: (t.lead_id, t.occurred_at, t.pk))
    came_back = sum(
        1 for t, after in itertools.pairwise(ordered)
        if t.to_state == "recycled" and after.lead_id == t.lead_id and after.to_state == "mql"
    )  # fmt: skip
    assert body["came_back"] == came_back > 0
    won = set(Lead.objects.filter(state="won").values_list("pk", flat=True))
    assert body["eventually_won"] == sum(t.lead_id in won for t in recycled)


def test_an_impossible_date_is_a_400_not_a_500(client_for: Any, users: Any) -> None:
    for params in ({"from": "2026-13-40"}, {"to": "2026-02-30T10:00:00"}, {"from": "yesterday"}):
        r = client_for("coo").get("/api/v1/reports/funnel/", params)
        assert r.status_code == 400 and r["Content-Type"] == "application/problem+json", params
        assert r.json()["errors"][0]["field"] in ("from", "to")
