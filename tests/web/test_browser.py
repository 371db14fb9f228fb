"""A large CSV import in a real browser (Debian's chromium through playwright) against a live
server, a real Celery worker and PostgreSQL: the progress bar moves forward while 8,000 rows
load, then the result and the per-row errors show. Every role's day is in test_journeys.py.
Screenshots go to test-artifacts/ (git-ignored)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from integrations.models import CsvImport
from leads.models import Lead
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
