"""The web UI in a real browser (Debian's chromium through playwright) against a live server, a
real Celery worker and PostgreSQL: a marketer imports a CSV and watches its progress to the
result; a rep accepts one handoff and rejects another with a reason; the COO edits a draft, sees
the validation error at its field, backtests, publishes and sees the dashboard chart drawn.
Screenshots go to test-artifacts/ (git-ignored)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from handoff.models import Handoff
from integrations.models import CsvImport
from leads.choices import DefinitionStatus
from leads.models import Definition, Lead
from tests.conftest import requires_worker
from tests.web.conftest import shot

pytestmark = [requires_worker, pytest.mark.django_db(transaction=True)]


def test_a_marketer_imports_a_csv_and_sees_progress_and_the_result(
    world: Any, page_as: Any, tmp_path: Path
) -> None:
    rows = [["メールアドレス", "会社名", "姓", "電話番号"]]
    rows += [[f"import{i}@example.co.jp", f"会社{i}", "山田", "03-1234-5678"] for i in range(8000)]
    rows += [["not-an-email", "壊れた行", "", ""], ["bad-phone@example.jp", "X", "", "call me"]]
    path = tmp_path / "リード.csv"
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    path.write_bytes(out.getvalue().encode("cp932"))

    page = page_as("mika", "pw-marketing-1")
    page.goto(f"{page.base}/imports/")
    page.set_input_files("#file", str(path))
    page.click("main button[type=submit]")
    page.wait_for_selector("#mapping")
    assert page.input_value("#column-0") == "email" and page.input_value("#column-3") == "phone"
    shot(page, "import-1-mapping")
    page.click("#mapping button[type=submit]")
    page.wait_for_selector("progress")
    seen: list[int] = []
    while not page.query_selector(".import-result"):
        value = page.evaluate("() => { const p = document.querySelector('progress'); "
                              "return p ? Number(p.value) : -1 }")  # fmt: skip
        if value >= 0 and (not seen or seen[-1] != value):
            seen.append(value)
        if 0 < value < 100 and len(seen) == 2:
            shot(page, "import-2-progress")
        page.wait_for_timeout(100)
    shot(page, "import-3-result")
    assert seen == sorted(seen), f"progress only moves forward: {seen}"
    assert any(0 < v < 100 for v in seen), f"progress seen while it ran: {seen}"
    assert page.inner_text("[data-figure=created]").replace(",", "") == "8000"
    assert page.inner_text("[data-figure=failed]") == "2"
    assert len(page.query_selector_all(".import-result table.errors tbody tr")) == 2
    assert Lead.objects.filter(email__startswith="import").count() == 8000
    assert CsvImport.objects.get().job.status == "succeeded"
    assert page.errors == []


def test_a_rep_accepts_one_handoff_and_rejects_another(
    world: Any, page_as: Any, users: Any
) -> None:
    from accounts.models import Team
    from tests.factories import make_mql

    second = make_mql(team=Team.objects.get(name="Team A"), owner=users["rep_a"],
                      email="second@example.co.jp")  # fmt: skip
    first = Handoff.objects.get(lead=world["mql"], status="open")
    other = Handoff.objects.get(lead=second, status="open")
    page = page_as("aoki", "pw-rep-a-1", language="ja")
    page.goto(f"{page.base}/inbox/")
    assert page.get_attribute("html", "lang") == "ja"
    assert page.inner_text(f"#handoff-{first.pk} .countdown").startswith("残り"), "SLA countdown"
    shot(page, "inbox-1-open")
    page.click(f"#handoff-{first.pk} button.primary")
    page.wait_for_selector(f"#handoff-{first.pk} .pass")
    page.select_option(f"#reject-reason-{other.pk}", "icp")
    page.fill(f"#reject-note-{other.pk}", "業種が対象外")
    page.click(f"#handoff-{other.pk} button.danger")
    page.wait_for_selector(f"#handoff-{other.pk} .fail")
    shot(page, "inbox-2-answered")
    first.refresh_from_db()
    other.refresh_from_db()
    assert (first.status, other.status, other.reason, other.note) == (
        "accepted", "rejected", "icp", "業種が対象外")  # fmt: skip
    assert Lead.objects.get(pk=world["mql"].pk).state == "sal"
    assert Lead.objects.get(pk=second.pk).state == "recycled"
    assert page.errors == []


def test_the_coo_edits_backtests_publishes_and_sees_the_dashboard(world: Any, page_as: Any) -> None:
    page = page_as("chief", "pw-coo-1")
    page.goto(f"{page.base}/definitions/")
    page.click("text=New draft from the published version")
    page.wait_for_selector("#definition-form")
    draft = Definition.objects.get(status=DefinitionStatus.DRAFT)
    params = "#stages\\.mql\\.criteria\\.0\\.params"
    page.fill(params, '{"score": "engagement", "value": -5}')
    page.click("#definition-form button[type=submit]")
    error = page.wait_for_selector(f"{params} ~ p.error")
    assert error.inner_text().startswith("value: ")
    shot(page, "coo-1-validation-error")
    page.fill(params, '{"score": "engagement", "value": 10}')
    page.click("#definition-form button[type=submit]")
    page.wait_for_selector(".msg-success")
    assert Definition.objects.get(pk=draft.pk).document["stages"]["mql"]["criteria"][0][
        "params"]["value"] == 10  # fmt: skip

    page.click("#backtest button[type=submit]")
    page.wait_for_selector(".backtest-result", timeout=60_000)
    assert page.inner_text("[data-figure=draft-mqls]").isdigit()
    shot(page, "coo-2-backtest")

    page.click("text=Publish…")
    page.check("input[name=confirm]")
    page.click("main form button.primary")
    page.wait_for_selector(".msg-success")
    assert Definition.objects.get(pk=draft.pk).status == DefinitionStatus.PUBLISHED

    page.goto(f"{page.base}/dashboard/")
    page.wait_for_function("() => window.Chart && Chart.getChart('waterfall-chart')")
    drawn = page.evaluate("""() => {
        const c = document.getElementById('waterfall-chart');
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let painted = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
        return {painted, total: data.length / 4, bars: Chart.getChart(c).data.datasets[0].data};
    }""")
    shot(page, "coo-3-dashboard")
    assert drawn["painted"] > drawn["total"] * 0.02, "the canvas is drawn, not blank"
    assert drawn["bars"][0] == 4, "the chart shows the four leads entering"
    assert page.errors == []
