"""The COO's definition editor (validation at the field, backtest job, publish with
confirmation) and the dashboard's figures."""

from __future__ import annotations

import re
from typing import Any

from leads.choices import DefinitionStatus
from leads.models import Definition


def editor_post(d: Definition, **changes: Any) -> dict[str, Any]:
    """The criteria builder's form as the browser posts it, from the document, with `changes`."""
    from web.views.definitions import form_from_document

    return {**form_from_document(d.document, d.name), **changes}


def test_the_form_of_a_document_posts_back_the_same_document(world: Any, web_as: Any) -> None:
    """`form_from_document` is the inverse of what a save reads from the form."""
    from django.http import QueryDict

    from tests.conftest import inside_sales_document
    from web.views.definitions import _document_from_post, form_from_document

    doc = inside_sales_document()
    doc["stages"]["mql"]["reassign_on_breach"] = True
    doc["stages"]["mql"]["criteria"][0]["label"] = "Engaged enough"
    posted = QueryDict(mutable=True)
    for key, value in form_from_document(doc, "x").items():
        posted.setlist(key, value if isinstance(value, list) else [value])
    assert _document_from_post(posted) == doc


def new_draft(web_as: Any) -> Definition:
    r = web_as("coo").post("/definitions/new/")
    assert r.status_code == 302
    return Definition.objects.get(status=DefinitionStatus.DRAFT)


def test_every_mistake_is_reported_at_its_input_at_once(world: Any, web_as: Any) -> None:
    draft = new_draft(web_as)
    r = web_as("coo").post(f"/definitions/{draft.pk}/", editor_post(draft, **{
        "stages.mql.criteria.0.params.value": "twenty",
        "stages.mql.criteria.3.params.days": "0",
        "stages.mql.sla_hours": "-3",
        "name": "",
    }))  # fmt: skip
    assert r.status_code == 400
    html = r.content.decode()
    for at in ("stages\\.mql\\.criteria\\.0\\.params\\.value", "stages\\.mql\\.criteria\\.3\\.params\\.days",
               "stages\\.mql\\.sla_hours", "name"):  # fmt: skip
        assert re.search(rf'class="field-error"[^>]*>\s*<label for="{at}">', html), at
    assert Definition.objects.get(pk=draft.pk).document == draft.document, "nothing saved"


def test_a_removed_criterion(world: Any, web_as: Any) -> None:
    draft = new_draft(web_as)
    data = editor_post(draft)
    for key in [k for k in data if k.startswith("stages.mql.criteria.1.")]:
        del data[key]
    data["name"] = "Without ICP"
    assert web_as("coo").post(f"/definitions/{draft.pk}/", data).status_code == 302
    saved = Definition.objects.get(pk=draft.pk)
    assert saved.name == "Without ICP"
    assert [c["code"] for c in saved.document["stages"]["mql"]["criteria"]] == [
        "engaged",
        "contactable",
        "need",
    ]


def test_publish_needs_confirmation_and_retires_the_old_version(world: Any, web_as: Any) -> None:
    old = Definition.objects.get(status=DefinitionStatus.PUBLISHED)
    draft = new_draft(web_as)
    client = web_as("coo")
    assert client.get(f"/definitions/{draft.pk}/publish/").status_code == 200
    client.post(f"/definitions/{draft.pk}/publish/", {})
    assert Definition.objects.get(pk=draft.pk).status == DefinitionStatus.DRAFT
    client.post(f"/definitions/{draft.pk}/publish/", {"confirm": "yes"})
    assert Definition.objects.get(pk=draft.pk).status == DefinitionStatus.PUBLISHED
    assert Definition.objects.get(pk=old.pk).status == DefinitionStatus.RETIRED
    r = client.post(f"/definitions/{draft.pk}/", editor_post(draft, name="late"))
    assert r.status_code == 302 and Definition.objects.get(pk=draft.pk).name != "late"


def test_only_the_coo_edits_and_backtests(world: Any, web_as: Any) -> None:
    draft = new_draft(web_as)
    for who in ("marketing", "rep_a", "manager_a"):
        assert web_as(who).post("/definitions/new/").status_code == 403
        assert web_as(who).post(f"/definitions/{draft.pk}/backtest/").status_code == 403
        assert (
            web_as(who).post(f"/definitions/{draft.pk}/publish/", {"confirm": "yes"}).status_code
            == 403
        )
        web_as(who).post(f"/definitions/{draft.pk}/", editor_post(draft, name="nope"))
    assert Definition.objects.get(pk=draft.pk).name == draft.name


def test_a_backtest_runs_as_a_job_the_editor_follows(
    world: Any, web_as: Any, eager_tasks: Any, django_capture_on_commit_callbacks: Any
) -> None:
    draft = new_draft(web_as)
    with django_capture_on_commit_callbacks(execute=True):
        r = web_as("coo").post(f"/definitions/{draft.pk}/backtest/", {"from": "2026-01-01"})
    assert r.status_code == 302 and "?job=" in r["Location"]
    page = web_as("coo").get(r["Location"]).content.decode()
    assert 'data-status="succeeded"' in page and 'data-figure="draft-mqls"' in page
    job_id = int(r["Location"].split("job=")[1].split("#")[0])
    assert web_as("marketing").get(f"/jobs/{job_id}/").status_code == 404, "another user's job"


def test_the_dashboard_figures_follow_the_role(world: Any, web_as: Any) -> None:
    coo = web_as("coo").get("/dashboard/")
    data = coo.context["chart"]
    assert data["first"][0] == 4 and data["first"][-1] == 1, "4 leads, 1 won"
    rep_b = web_as("rep_b").get("/dashboard/").context["chart"]
    assert rep_b["first"] == [0, 0, 0, 0, 0], "a rep of another team sees none of team A's"
    bad = web_as("coo").get("/dashboard/", {"from": "2026-13-40"})
    assert bad.status_code == 200 and bad.context["chart"]["first"][0] == 4


def test_the_editor_edits_the_inside_sales_stages(world: Any, web_as: Any) -> None:
    """SPEC §13: the COO adds the IS stages in the editor, sees a mistake at its input, and the
    saved document is what the API would have stored."""
    from tests.conftest import inside_sales_document

    draft = new_draft(web_as)
    page = web_as("coo").get(f"/definitions/{draft.pk}/").content.decode()
    for name in ("stages.tal.owner", "stages.tql.owner", "stages.tal.sla_hours"):
        assert f'id="{name}"' in page, name
    want = inside_sales_document()
    staged = Definition(name=draft.name, document=want)
    data = editor_post(staged, **{"stages.tal.sla_hours": "0"})
    r = web_as("coo").post(f"/definitions/{draft.pk}/", data)
    assert r.status_code == 400
    assert re.search(r'class="field-error"[^>]*>\s*<label for="stages\.tal\.sla_hours">',
                     r.content.decode())  # fmt: skip
    r = web_as("coo").post(f"/definitions/{draft.pk}/", editor_post(staged))
    assert r.status_code == 302, r.content.decode()[:2000]
    saved = Definition.objects.get(pk=draft.pk).document
    assert saved["stages"]["tal"] == want["stages"]["tal"]
    assert saved["stages"]["tql"] == want["stages"]["tql"]
    assert saved["stages"]["mql"]["owner"] == "inside_sales"
    page = web_as("coo").get(f"/definitions/{draft.pk}/").content.decode()
    assert 'value="72"' in page, "the TAL's SLA shows again"


def _figures(html: str) -> dict[str, int]:
    return {
        name: int(value.replace(",", ""))
        for name, value in re.findall(r'data-figure="what-if-([a-z]+)">([0-9,]+)<', html)
    }


def test_the_what_if_replays_the_form_as_it_is_without_saving_it(world: Any, web_as: Any) -> None:
    """The editor posts its form to the what-if on load and on every change: the panel shows
    the unsaved draft's figures for the last 90 days beside what really happened; an invalid
    form gets a count of its problems; nothing is saved; only the COO may ask."""
    from datetime import timedelta

    from django.utils import timezone

    from leads.models import Lead, LeadTransition

    draft = new_draft(web_as)
    client = web_as("coo")
    page = client.get(f"/definitions/{draft.pk}/").content.decode()
    assert f'hx-post="/definitions/{draft.pk}/what-if/"' in page and 'id="what-if"' in page
    since = timezone.now() - timedelta(days=91)
    real = set(
        LeadTransition.objects.filter(to_state="mql", occurred_at__gte=since).values_list(
            "lead_id", flat=True
        )
    )
    won = Lead.objects.filter(pk__in=real, state="won").count()
    assert len(real) >= 3 and won == 1

    same = client.post(f"/definitions/{draft.pk}/what-if/", editor_post(draft))
    assert same.status_code == 200 and 'data-what-if="ready"' in same.content.decode()
    assert {k: v for k, v in _figures(same.content.decode()).items() if k.startswith("real")} == {
        "realmqls": len(real), "realsqls": 1, "realwon": won,
    }  # fmt: skip

    stricter = _figures(
        client.post(
            f"/definitions/{draft.pk}/what-if/",
            editor_post(draft, **{"stages.mql.criteria.0.params.value": "500"}),
        ).content.decode()
    )
    assert {k: v for k, v in stricter.items() if not k.startswith("real")} == {
        "mqls": 0, "sqls": 0, "won": 0, "captured": 0, "missed": won,
    }  # fmt: skip

    invalid = client.post(
        f"/definitions/{draft.pk}/what-if/",
        editor_post(draft, **{"stages.mql.criteria.0.params.value": "twenty"}),
    )
    assert invalid.status_code == 200 and 'data-what-if="invalid"' in invalid.content.decode()
    assert Definition.objects.get(pk=draft.pk).document == draft.document, "nothing saved"
    for who in ("marketing", "rep_a", "manager_a"):
        assert (
            web_as(who).post(f"/definitions/{draft.pk}/what-if/", editor_post(draft)).status_code
            == 403
        )


def test_a_draft_from_a_suggestion_carries_that_one_change(world: Any, web_as: Any) -> None:
    """The advisor's button posts the published version and one change: the draft differs in
    that change only. A change that no longer fits, or that would make the definition invalid,
    makes no draft and says why."""
    published = Definition.objects.get(status=DefinitionStatus.PUBLISHED)
    client = web_as("coo")

    def suggest(change: str, code: str, value: str) -> Any:
        return client.post("/definitions/new/", {"from": published.pk, "change": change,
                                                 "code": code, "value": value})  # fmt: skip

    r = suggest("threshold", "engaged", "13")
    assert r.status_code == 302
    draft = Definition.objects.get(status=DefinitionStatus.DRAFT)
    expected = published.document
    expected["stages"]["mql"]["criteria"][0]["params"]["value"] = 13
    assert draft.document == expected and "engaged" in draft.name
    r = suggest("drop", "icp", "Software")
    icp = Definition.objects.filter(status="draft").latest("pk").document["stages"]["mql"]
    assert icp["criteria"][1]["params"]["values"] == ["manufacturing"]
    drafts = Definition.objects.filter(status="draft").count()
    for change, code, value in (
        ("threshold", "nope", "1"),
        ("explode", "engaged", "1"),
        ("threshold", "engaged", "twenty"),  # does not fit
        ("threshold", "engaged", "-5"),
    ):  # an invalid definition
        r = suggest(change, code, value)
        assert r.status_code == 302 and r["Location"] == "/advisor/", (change, code, value)
    assert Definition.objects.filter(status="draft").count() == drafts, "no draft made"
    suggest("remove", "need", "")
    without = Definition.objects.filter(status="draft").latest("pk").document["stages"]["mql"]
    assert [c["code"] for c in without["criteria"]] == ["engaged", "icp", "contactable"]
    assert (
        web_as("marketing")
        .post("/definitions/new/", {"change": "remove", "code": "need"})
        .status_code
        == 403
    )


def test_the_advisor_page_takes_any_job_parameter_without_failing(
    users: Any, client_for: Any
) -> None:
    from django.test import Client

    client = Client()
    client.force_login(users["coo"])
    for raw in ("1", "99999999999999999999999", "x", "-1", "１"):
        page = client.get("/advisor/", {"job": raw})
        assert page.status_code == 200, raw
        assert b'id="win-model"' in page.content and b'class="job"' not in page.content


def test_a_large_scopes_advisor_is_computed_in_a_job_that_the_page_shows(
    world: Any, web_as: Any, settings: Any
) -> None:
    """Above ADVISOR_INLINE_LEADS leads, a missing report is never computed in the request: one
    job computes it (asked again, the page shows the same job), and the page then reads what it
    stored. A job of another user's is not shown."""
    from analytics.models import AdvisorSnapshot
    from analytics.tasks import advisor_job
    from leadflow.models import Job

    settings.ADVISOR_INLINE_LEADS = 3
    coo = web_as("coo")
    page = coo.get("/advisor/")
    assert b'id="advisor-computing"' in page.content and b'id="advisor-summary"' not in page.content
    # Publishing v1 started a job computing every lead's reports (not run here): that one.
    job = Job.objects.get(kind="advisor")
    assert (job.params["stages"], job.params["scope"]) == (["mql", "sql"], "all")
    assert f'id="job-{job.pk}"'.encode() in page.content
    sql = coo.get("/advisor/", {"stage": "sql"}).content
    assert sql.count(f'id="job-{job.pk}"'.encode()) == 1
    assert Job.objects.filter(kind="advisor").count() == 1, "the job at work is not doubled"
    # Another period: a job of its own, for that period and stage only.
    coo.get("/advisor/", {"from": "2026-01-01", "to": "2026-01-31"})
    other = Job.objects.filter(kind="advisor").latest("pk")
    assert (other.params["stages"], other.params["from"][:10]) == (["mql"], "2026-01-01")
    # The manager does not see the COO's job, even when the page is sent its id: a job of
    # their own computes their team's report.
    mine = web_as("manager_a").get(f"/advisor/?job={job.pk}").content
    assert f'id="job-{job.pk}"'.encode() not in mine and b'id="advisor-computing"' in mine
    theirs = Job.objects.filter(kind="advisor").latest("pk")
    assert theirs.created_by.username == "ando" and theirs.params["scope"] != "all"

    advisor_job(job.pk)  # what the worker does
    page = coo.get("/advisor/")
    assert b'id="advisor-summary"' in page.content and b'id="advisor-computing"' not in page.content
    stored = AdvisorSnapshot.objects.filter(scope="all", period_end__gt=job.params["from"])
    assert sorted(stored.values_list("stage", "report__leads")) == [("mql", 1), ("sql", 1)]
    assert Job.objects.filter(kind="advisor").count() == 3


def test_compute_now_starts_a_job_for_the_callers_scope_and_refuses_a_bad_period(
    world: Any, web_as: Any, users: Any
) -> None:
    from django.utils.timezone import localdate

    from analytics.models import AdvisorSnapshot
    from analytics.tasks import advisor_job
    from leadflow.models import Job

    rep = web_as("rep_b")
    assert b'id="advisor-summary"' in rep.get("/advisor/").content  # small: computed in place
    r = rep.post("/advisor/compute/", {"from": "2026-01-01", "to": "2026-03-31", "stage": "sql"})
    job = Job.objects.get(kind="advisor", created_by=users["rep_b"])
    assert r.status_code == 302
    assert r["Location"] == f"/advisor/?from=2026-01-01&to=2026-03-31&stage=sql&job={job.pk}#as-of"
    advisor_job(job.pk)
    stored = AdvisorSnapshot.objects.get(stage="sql", asked_by=users["rep_b"])
    assert stored.scope == AdvisorSnapshot.objects.get(stage="mql", asked_by=users["rep_b"]).scope
    assert stored.scope != "all" and str(localdate(stored.period_start)) == "2026-01-01"
    page = rep.get(r["Location"])
    assert b'data-figure="computed"' in page.content
    assert b'href="/advisor/?from=2026-01-01&amp;to=2026-03-31&amp;stage=sql"' in page.content
    bad = rep.post("/advisor/compute/", {"from": "2026-03-31", "to": "2026-01-01"})
    assert bad.status_code == 302 and Job.objects.filter(created_by=users["rep_b"]).count() == 1
    assert rep.get("/advisor/compute/").status_code == 405


def test_publishing_computes_the_new_versions_advisor_reports_in_the_background(
    world: Any, web_as: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from analytics.models import AdvisorSnapshot
    from analytics.tasks import advisor_job
    from leadflow.models import Job
    from leads.services.definitions import definition_publish

    draft = new_draft(web_as)
    with django_capture_on_commit_callbacks() as sent:
        definition_publish(definition_id=draft.pk)
    job = Job.objects.filter(kind="advisor").latest("pk")
    assert len(sent) == 1
    assert (job.params["stages"], job.params["scope"], job.params["definition"]) == (
        ["mql", "sql"], "all", draft.pk,
    )  # fmt: skip
    advisor_job(job.pk)
    assert sorted(AdvisorSnapshot.objects.values_list("stage", "definition_id")) == [
        ("mql", draft.pk), ("sql", draft.pk)
    ]  # fmt: skip
    # The COO's first visit reads what the job stored.
    assert web_as("coo").get("/advisor/").context["report"]["as_of"] == (
        AdvisorSnapshot.objects.get(stage="mql").computed_at
    )
