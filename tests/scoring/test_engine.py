"""The SQL engine against the Python reference, with hypothesis: full = incremental = reference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.models import Event, Lead, LeadScore, RescoreMark
from leads.services.events import lead_score_mark
from scoring import engine, reference
from scoring.choices import RuleKind
from scoring.models import ScoringRule
from tests.factories import make_lead

AS_OF = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
TYPES = ["page_view", "document_download", "quote_request", "webinar"]
URLS = ["/features", "/features/sso", "/pricing", "/blog/features-list", "/"]

engagement_rule = st.fixed_dictionaries(
    {
        "event_type": st.sampled_from(TYPES),
        "points": st.decimals(min_value=-5, max_value=20, places=2),
        "half_life_days": st.none() | st.decimals(min_value=Decimal("0.5"), max_value=90, places=2),
        "cap": st.none() | st.decimals(min_value=1, max_value=40, places=2),
        "match": st.none()
        | st.tuples(
            st.sampled_from(["contains", "equals", "prefix"]),
            st.sampled_from(["/features", "/", "/pricing"]),
        ),
    }
)
fit_rule = st.one_of(
    st.fixed_dictionaries(
        {
            "field": st.just("industry"),
            "operator": st.sampled_from(["equals", "in", "contains"]),
            "values": st.lists(
                st.sampled_from(["software", "Manufacturing", "soft", "retail"]),
                min_size=1,
                max_size=2,
            ),
        }
    ),
    st.fixed_dictionaries(
        {
            "field": st.just("company_size"),
            "operator": st.just("between"),
            "values": st.sampled_from([[10, 100], [None, 50], [200, None]]),
        }
    ),
    st.fixed_dictionaries(
        {"field": st.just("title"), "operator": st.just("present"), "values": st.just([])}
    ),
    st.fixed_dictionaries(
        {
            "field": st.just(""),
            "operator": st.just("email_domain_in"),
            "values": st.just(["gmail.com", "yahoo.co.jp"]),
        }
    ),
).map(lambda r: {**r, "points": Decimal(7)})
event = st.fixed_dictionaries(
    {
        "lead": st.integers(0, 3),
        "type": st.sampled_from(TYPES),
        "url": st.none() | st.sampled_from(URLS) | st.just(5),
        "age_hours": st.floats(min_value=-2, max_value=24 * 200, allow_nan=False),
        # The points stored with the event: none, computed under the current rules, or stale.
        "stored": st.sampled_from([None, "current", "stale"]),
    }
)
lead_fields = st.fixed_dictionaries(
    {
        "industry": st.sampled_from(["software", "SOFTWARE", "manufacturing", "retail", ""]),
        "company_size": st.none() | st.integers(1, 5000),
        "title": st.sampled_from(["", "CTO"]),
        "email_domain": st.sampled_from(["gmail.com", "acme.co.jp"]),
    }
)


def _make_rules(eng: list[dict[str, Any]], fit: list[dict[str, Any]]) -> None:
    ScoringRule.objects.all().delete()
    for i, r in enumerate(eng):
        match = r["match"]
        ScoringRule.objects.create(
            kind=RuleKind.ENGAGEMENT,
            name=f"e{i}",
            event_type=r["event_type"],
            points=r["points"],
            half_life_days=r["half_life_days"],
            cap=r["cap"],
            property_key="url" if match else "",
            property_op=match[0] if match else "",
            property_value=match[1] if match else "",
        )
    for i, r in enumerate(fit):
        ScoringRule.objects.create(
            kind=RuleKind.FIT,
            name=f"f{i}",
            points=r["points"],
            field=r["field"],
            operator=r["operator"],
            values=r["values"],
        )


def _reference(lead: Lead) -> tuple[Decimal, Decimal]:
    eng_rules = engine.active_rules(RuleKind.ENGAGEMENT)
    events = list(Event.objects.filter(lead=lead))
    return reference.fit(engine.active_rules(RuleKind.FIT), lead)[0], reference.engagement(
        eng_rules, events, AS_OF
    )[0]


def _scores() -> dict[int, tuple[Decimal, Decimal]]:
    return {
        pk: (fit, eng)
        for pk, fit, eng in Lead.objects.values_list("pk", "scores__fit", "scores__engagement")
    }


def _store_points(created: list[Event], stored: list[str | None]) -> None:
    """Give each event the stored points asked for: none, the current rules' or stale ones."""
    for _ in engine.events_repoint(chunk_size=7):
        pass
    key = engine.points_key(engine.active_rules(RuleKind.ENGAGEMENT))
    pks = {
        kind: [e.pk for e, s in zip(created, stored, strict=True) if s == kind] for kind in stored
    }
    Event.objects.filter(pk__in=pks.get(None, [])).update(points=None, points_key=None)
    Event.objects.filter(pk__in=pks.get("stale", [])).update(points=999.0, points_key=key + 1)
    assert Event.objects.filter(points_key=key).count() == len(pks.get("current", []))


def close(a: Decimal, b: Decimal) -> bool:
    # Stored at cents; float summation order may differ between SQL and Python by < 1e-9,
    # which can flip a half-cent rounding and nothing more.
    return abs(a - b) <= Decimal("0.01")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    eng=st.lists(engagement_rule, max_size=4),
    fit=st.lists(fit_rule, max_size=3),
    events=st.lists(event, max_size=25),
    leads=st.lists(lead_fields, min_size=4, max_size=4),
)
def test_full_equals_incremental_equals_reference(
    db: Any, eng: Any, fit: Any, events: Any, leads: Any
) -> None:
    with transaction.atomic():
        _make_rules(eng, fit)
        objs = [
            make_lead(
                email=f"p{i}@{f['email_domain']}",
                industry=f["industry"],
                company_size=f["company_size"],
                title=f["title"],
            )
            for i, f in enumerate(leads)
        ]
        created = Event.objects.bulk_create(
            [
                Event(
                    lead=objs[e["lead"]],
                    type=e["type"],
                    occurred_at=AS_OF - timedelta(hours=e["age_hours"]),
                    properties={} if e["url"] is None else {"url": e["url"]},
                )
                for e in events
            ]
        )
        _store_points(created, [e["stored"] for e in events])
        ids = [o.pk for o in objs]
        for _ in engine.full_recompute(as_of=AS_OF, chunk_size=3):
            pass
        full = _scores()
        LeadScore.objects.update(fit=Decimal("-1"), engagement=Decimal("-1"))
        engine.rescore(as_of=AS_OF, ids=ids[:2])
        engine.rescore(as_of=AS_OF, ids=ids[2:])
        incremental = _scores()
        assert full == incremental
        for lead in Lead.objects.all():
            ref_fit, ref_eng = _reference(lead)
            assert close(lead.fit_score, ref_fit), (lead.fit_score, ref_fit)
            assert close(lead.engagement_score, ref_eng), (lead.engagement_score, ref_eng)
        transaction.set_rollback(True)


def _marks(lead: Lead) -> int:
    return RescoreMark.objects.filter(lead=lead).count()


def _version(lead: Lead) -> int:
    return LeadScore.objects.get(lead=lead).version


def test_a_rescore_consumes_the_marks_and_counts_each_write(db: Any) -> None:
    lead = make_lead()
    Event.objects.create(lead=lead, type="quote_request", occurred_at=AS_OF)
    lead_score_mark([lead.pk])
    assert (_marks(lead), _version(lead)) == (2, 0)  # the new lead's mark and the event's

    assert engine.rescore(as_of=AS_OF, ids=[lead.pk]) == 1
    assert Lead.objects.get(pk=lead.pk).engagement_score == 8
    assert (_marks(lead), _version(lead)) == (0, 1)
    assert engine.rescore(as_of=AS_OF, ids=[lead.pk]) == 0, "an unchanged lead is not rewritten"
    assert _version(lead) == 1
    # a consumed mark is a write even when the scores come out the same
    lead_score_mark([lead.pk])
    assert engine.rescore(as_of=AS_OF, ids=[lead.pk]) == 0
    assert (_marks(lead), _version(lead)) == (0, 2)


def test_a_rescore_creates_a_missing_score_row(db: Any) -> None:
    lead = make_lead()
    Event.objects.create(lead=lead, type="quote_request", occurred_at=AS_OF)
    LeadScore.objects.filter(lead=lead).delete()
    assert engine.rescore(as_of=AS_OF, ids=[lead.pk]) == 1
    assert (Lead.objects.get(pk=lead.pk).engagement_score, _version(lead)) == (8, 1)


def test_a_full_recompute_leaves_a_newer_incremental_result_alone(db: Any) -> None:
    first, second = make_lead(), make_lead()
    for lead in (first, second):
        Event.objects.create(lead=lead, type="quote_request", occurred_at=AS_OF)
    chunks = engine.full_recompute(as_of=AS_OF, chunk_size=second.pk - first.pk)
    assert next(chunks)[2] == 1  # its snapshot is taken; the first lead's chunk is written
    # Between the recompute's snapshot and its write of the second lead's chunk, a new event
    # arrives and an incremental rescore writes the second lead.
    Event.objects.create(lead=second, type="quote_request", occurred_at=AS_OF)
    lead_score_mark([second.pk])
    assert engine.rescore(as_of=AS_OF, ids=[second.pk]) == 1
    assert sum(changed for _lo, _hi, changed in chunks) == 0  # its older result is not written
    assert Lead.objects.get(pk=first.pk).engagement_score == 8
    assert Lead.objects.get(pk=second.pk).engagement_score == 16
    assert (_version(first), _version(second)) == (1, 1)


def test_decay_halves_at_the_half_life(db: Any) -> None:
    ScoringRule.objects.filter(event_type="quote_request").update(half_life_days=Decimal(10))
    lead = make_lead()
    Event.objects.create(lead=lead, type="quote_request", occurred_at=AS_OF - timedelta(days=10))
    Event.objects.create(lead=lead, type="quote_request", occurred_at=AS_OF - timedelta(days=20))
    engine.rescore(as_of=AS_OF, ids=[lead.pk])
    lead = Lead.objects.get(pk=lead.pk)
    assert lead.engagement_score == Decimal("6.00")  # 8·½ + 8·¼


def test_ingest_stores_points_and_a_rule_change_makes_them_stale_not_wrong(db: Any) -> None:
    from leads.services.events import EventInput, event_ingest

    lead = make_lead()
    inputs = [
        EventInput(0, lead.pk, "page_view", AS_OF, '{"url": "/features/sso"}', None),
        EventInput(1, lead.pk, "page_view", AS_OF, '{"url": "/pricing"}', None),
        EventInput(2, lead.pk, "quote_request", AS_OF, "{}", None),
        EventInput(3, lead.pk, "webinar", AS_OF, "{}", None),
    ]
    event_ingest(events=inputs)
    rules = engine.active_rules(RuleKind.ENGAGEMENT)
    key = engine.points_key(rules)
    stored = list(
        Event.objects.filter(lead=lead).order_by("pk").values_list("points", "points_key")
    )
    if connection.vendor == "postgresql":  # the SQLite insert leaves them to the recompute
        assert stored == [(3.0, key), (0.0, key), (8.0, key), (0.0, key)]
    ScoringRule.objects.filter(event_type="quote_request").update(points=Decimal(20))
    new_rules = engine.active_rules(RuleKind.ENGAGEMENT)
    assert engine.points_key(new_rules) != key
    engine.rescore(as_of=AS_OF, ids=[lead.pk])
    assert Lead.objects.get(pk=lead.pk).engagement_score == 23
    updated = sum(n for _, _, n in engine.events_repoint(chunk_size=2))
    assert updated == 4
    assert sorted(Event.objects.filter(lead=lead).values_list("points", flat=True)) == [
        0.0,
        0.0,
        3.0,
        20.0,
    ]
    assert sum(n for _, _, n in engine.events_repoint(chunk_size=2)) == 0, "nothing left stale"
    LeadScore.objects.update(engagement=0)
    engine.rescore(as_of=AS_OF, ids=[lead.pk])
    assert Lead.objects.get(pk=lead.pk).engagement_score == 23


def test_a_changed_matcher_makes_every_stored_point_stale(db: Any, monkeypatch: Any) -> None:
    """Stored points are keyed on the matching code's declared version as well as the rules:
    a new matcher (same rules) recomputes them instead of silently keeping the old ones."""
    from leads.services.events import EventInput, event_ingest

    lead = make_lead()
    event_ingest(events=[EventInput(0, lead.pk, "quote_request", AS_OF, "{}", None)])
    rules = engine.active_rules(RuleKind.ENGAGEMENT)
    Event.objects.filter(lead=lead).update(points=99, points_key=engine.points_key(rules))
    engine.rescore(as_of=AS_OF, ids=[lead.pk])
    assert Lead.objects.get(pk=lead.pk).engagement_score == 99, "a current key is trusted"
    monkeypatch.setattr(engine, "MATCHER_VERSION", engine.MATCHER_VERSION + 1)
    assert engine.points_key(rules) != engine.points_key(rules, matcher=engine.MATCHER_VERSION - 1)
    engine.rescore(as_of=AS_OF, ids=[lead.pk])
    assert Lead.objects.get(pk=lead.pk).engagement_score == 8, "evaluated by the new matcher"
    assert sum(n for _, _, n in engine.events_repoint(chunk_size=10)) == 1
    assert Event.objects.get(lead=lead).points == 8.0


def test_a_rule_change_enqueues_the_repoint(
    db: Any, eager_tasks: Any, users: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from scoring import services

    lead = make_lead()
    Event.objects.create(lead=lead, type="quote_request", occurred_at=AS_OF)
    rule = ScoringRule.objects.get(event_type="quote_request")
    with django_capture_on_commit_callbacks(execute=True):
        services.rule_update(rule_id=rule.pk, actor=users["coo"], points=Decimal(11))
    assert Event.objects.get(lead=lead).points == 11.0


def test_the_nightly_recompute_stores_missing_points_after_it(
    db: Any, eager_tasks: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from leadflow.models import Job
    from scoring.tasks import score_recompute_nightly

    lead = make_lead()
    Event.objects.create(lead=lead, type="quote_request", occurred_at=AS_OF)  # no stored points
    assert Event.objects.get(lead=lead).points_key is None
    with django_capture_on_commit_callbacks(execute=True):
        score_recompute_nightly.delay()
    assert Lead.objects.get(pk=lead.pk).engagement_score == 8
    assert Job.objects.filter(kind="score_recompute", status="succeeded").exists()
    key = engine.points_key(engine.active_rules(RuleKind.ENGAGEMENT))
    assert list(Event.objects.filter(lead=lead).values_list("points", "points_key")) == [(8.0, key)]
