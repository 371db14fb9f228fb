"""CSV import: Shift_JIS or UTF-8 upload, columns mapped by their names, a background job with
progress, dedupe on e-mail, a per-row error report; and a job run again after a crash
continues where it stopped."""

from __future__ import annotations

import contextlib
import csv
import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from integrations.models import CsvImport, CsvImportChunk
from integrations.services.imports import csv_import_run
from leads.models import Event, Lead, StageEntry

HEADER = ["メールアドレス", "姓", "名", "会社名", "電話番号", "従業員数", "memo"]


def csv_bytes(rows: list[list[str]], encoding: str = "cp932") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def upload(client: Any, data: bytes, kind: str = "leads", name: str = "リスト.csv") -> Any:
    return client.post(
        "/imports/", {"kind": kind, "file": SimpleUploadedFile(name, data, "text/csv")}
    )


def test_a_shift_jis_file_is_mapped_by_its_headers_and_loaded(
    world: Any,
    web_as: Any,
    eager_tasks: Any,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    settings.IMPORT_CHUNK_ROWS = 3
    rows = [
        HEADER,
        [
            "ｔａｎａｋａ＠Example.co.jp",
            "田中",
            "一郎",
            "田中商事",
            "０３-１１１１-２２２２",
            "120",
            "x",
        ],
        ["plain@example.co.jp", "", "", "新しい社名", "", "", ""],  # updates an existing lead
        ["not-an-email", "佐藤", "", "", "", "", ""],  # line 4: bad e-mail
        ["suzuki@example.jp", "鈴木", "", "", "call me", "", ""],  # line 5: bad phone
        ["", "", "", "", "", "", ""],  # an empty line
        ["tanaka@example.co.jp", "", "", "", "", "130", ""],  # the same lead again
        ["yamada@example.jp", "山田", "花子", "山田製作所", "", "many", ""],
    ]  # line 8: bad size
    client = web_as("marketing")
    r = upload(client, csv_bytes(rows))
    imp = CsvImport.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/imports/{imp.pk}/"
    assert (imp.encoding, imp.row_count, imp.chunks.count()) == ("cp932", 6, 2)
    assert imp.mapping == {"0": "email", "1": "last_name", "2": "first_name", "3": "company",
                           "4": "phone", "5": "company_size"}  # fmt: skip
    page = client.get(f"/imports/{imp.pk}/").content.decode()
    assert 'id="column-6"' in page and "田中商事" in page
    mapping = {f"column-{k}": v for k, v in imp.mapping.items()}
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/imports/{imp.pk}/", mapping).status_code == 302
    imp.refresh_from_db()
    assert imp.job.status == "succeeded" and imp.job.progress == 1.0
    result = imp.job.result
    assert (result["rows"], result["created"], result["updated"], result["failed"]) == (6, 1, 2, 3)
    assert [(e["row"], e["field"]) for e in result["errors"]] == [
        (4, "email"),
        (5, "phone"),
        (8, "company_size"),
    ], "the file's own line numbers (the header is line 1, the empty line counts)"
    tanaka = Lead.objects.get(email="tanaka@example.co.jp")
    assert (tanaka.last_name, tanaka.phone, tanaka.company_size, tanaka.source) == (
        "田中",
        "+81311112222",
        130,
        "import",
    )
    assert StageEntry.objects.filter(lead=tanaka).count() == 1 and tanaka.scores is not None
    assert Lead.objects.get(pk=world["plain"].pk).company == "新しい社名"
    page = client.get(f"/imports/{imp.pk}/").content.decode()
    assert 'data-figure="created">1<' in page and 'data-figure="failed">3<' in page
    report = client.get(f"/imports/{imp.pk}/errors.csv")
    lines = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert lines[0] == ["Line", "Field", "Problem", *HEADER]
    assert [line[0] for line in lines[1:]] == ["4", "5", "8"]
    assert lines[2][3:] == ["suzuki@example.jp", "鈴木", "", "", "call me", "", ""], (
        "the row's own values, to fix and import again"
    )
    assert web_as("coo").get(f"/imports/{imp.pk}/").status_code == 200
    other = web_as("marketing")
    from django.contrib.auth import get_user_model

    from accounts.services import user_add

    user_add(username="mika2", role="marketing")
    other.force_login(get_user_model().objects.get(username="mika2"))
    assert other.get(f"/imports/{imp.pk}/").status_code == 404, "another marketer's import"


def test_a_mapping_without_email_is_refused(world: Any, web_as: Any) -> None:
    client = web_as("marketing")
    upload(client, csv_bytes([["name", "contact"], ["a", "a@example.jp"]], "utf-8-sig"))
    imp = CsvImport.objects.get()
    assert imp.encoding == "utf-8-sig" and imp.mapping == {}
    r = client.post(f"/imports/{imp.pk}/", {"column-0": "company", "column-1": ""})
    assert r.status_code == 400 and imp.chunks.count() == 1
    imp.refresh_from_db()
    assert imp.job is None
    r = client.post(f"/imports/{imp.pk}/", {"column-0": "company", "column-1": "company"})
    assert r.status_code == 400


def test_not_a_csv_is_a_clear_error(world: Any, web_as: Any) -> None:
    r = upload(web_as("marketing"), b"")
    assert r.status_code == 400 and not CsvImport.objects.exists()
    assert web_as("rep_a").get("/imports/").status_code == 403


def test_events_import_by_email(
    world: Any, web_as: Any, eager_tasks: Any, django_capture_on_commit_callbacks: Any
) -> None:
    rows = [["email", "type", "occurred_at", "id", "properties"],
            ["plain@example.co.jp", "page_view", "2026-11-01T10:00:00+09:00", "imp-1", '{"url": "/features"}'],
            ["plain@example.co.jp", "page_view", "2026-11-01T10:00:00+09:00", "imp-1", ""],
            ["nobody@example.jp", "page_view", "", "", ""],
            ["plain@example.co.jp", "Bad Type", "", "", ""]]  # fmt: skip
    client = web_as("marketing")
    upload(client, csv_bytes(rows, "utf-8"), kind="events")
    imp = CsvImport.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{imp.pk}/", {f"column-{k}": v for k, v in imp.mapping.items()})
    imp.refresh_from_db()
    result = imp.job.result
    assert (result["accepted"], result["duplicates"], result["failed"]) == (1, 1, 2)
    event = Event.objects.get(external_id="imp-1")
    assert event.lead_id == world["plain"].pk and event.properties == {"url": "/features"}


def test_a_rerun_skips_the_chunks_already_loaded(world: Any, users: Any, settings: Any) -> None:
    """What a worker killed mid-import leaves: the first chunk loaded, the job still running.
    The job's next run loads only the rest and reports the whole file."""
    from integrations.services.imports import csv_import_create

    settings.IMPORT_CHUNK_ROWS = 2
    data = csv_bytes([["email"], *[[f"c{i}@example.jp"] for i in range(5)]], "utf-8")
    imp = csv_import_create(upload=io.BytesIO(data), file_name="c.csv", kind="leads",
                            actor=users["marketing"])  # fmt: skip
    imp.mapping = {"0": "email"}
    imp.save()
    first = CsvImportChunk.objects.filter(csv_import=imp).order_by("first_row").first()
    calls: list[float] = []

    class Crash(Exception):
        pass

    def crash_after_first_chunk(p: float) -> None:
        calls.append(p)
        raise Crash

    with contextlib.suppress(Crash):
        csv_import_run(import_id=imp.pk, report=crash_after_first_chunk)
    assert Lead.objects.filter(email__startswith="c").count() == 2
    first.refresh_from_db()
    assert first.result is not None
    progress: list[float] = []
    result = csv_import_run(import_id=imp.pk, report=progress.append)
    assert result["created"] == 5 and result["rows"] == 5
    assert Lead.objects.filter(email__startswith="c").count() == 5
    assert progress == sorted(progress) and progress[-1] == 1.0 and len(progress) == 3
