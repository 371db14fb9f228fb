"""CSV import (SPEC §6): upload, map columns to fields, load in the background with progress and
a per-row error report; leads dedupe on e-mail through the bulk intake.

An upload is read once, as a stream, into chunks of rows (`CsvImportChunk`), so memory does not
grow with the file. Each chunk is loaded in its own transaction, which also records how far the
import got: a job run again after a worker died continues after the last loaded chunk."""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from integrations.choices import ImportKind
from integrations.models import CsvImport, CsvImportChunk
from leadflow.errors import FieldError, NotFound, ValidationFailed
from leadflow.jobs import job_start
from leads.event_input import parse_events
from leads.serializers import LEAD_FIELDS, LeadFieldsSerializer
from leads.services.events import EventInput, event_ingest
from leads.services.intake import lead_intake_bulk

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from leadflow.types import Actor

EVENT_FIELDS = ["email", "type", "occurred_at", "id", "properties"]
MAX_COLUMNS = 100
MAX_CELL = 10_000
MAX_ERRORS = 1000
SAMPLE_ROWS = 5
# Header spellings (lower-case, NFKC) that map to a field without asking.
SYNONYMS = {
    "email": ["email", "e-mail", "mail", "メール", "メールアドレス", "eメール", "e-mailアドレス"],
    "first_name": ["first name", "firstname", "given name", "名"],
    "last_name": ["last name", "lastname", "surname", "family name", "姓"],
    "first_name_kana": ["first name kana", "名(カナ)", "メイ", "名カナ", "名(かな)"],
    "last_name_kana": ["last name kana", "姓(カナ)", "セイ", "姓カナ", "姓(かな)"],
    "company": ["company", "company name", "organization", "会社", "会社名", "企業名"],
    "department": ["department", "部署", "部署名"],
    "title": ["title", "job title", "役職"],
    "phone": ["phone", "telephone", "tel", "電話", "電話番号"],
    "industry": ["industry", "業種"],
    "company_size": ["company size", "employees", "従業員数"],
    "country": ["country", "国"],
    "website": ["website", "url", "ウェブサイト", "ホームページ"],
    "source": ["source", "lead source", "流入元"],
    "campaign": ["campaign", "キャンペーン"],
    "type": ["type", "event", "event type", "種別"],
    "occurred_at": ["occurred at", "time", "timestamp", "日時"],
    "id": ["id", "event id"],
}


def import_fields(kind: str) -> list[str]:
    if kind == ImportKind.EVENTS:
        return EVENT_FIELDS
    return [f for f in LEAD_FIELDS if f != "attributes"] + ["budget", "need"]


def _text_stream(upload: IO[bytes]) -> tuple[IO[str], str]:
    """UTF-8 (with or without BOM), else Shift_JIS (cp932), as Japanese spreadsheets save it."""
    head = upload.read(65536)
    upload.seek(0)
    encoding = "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        encoding = "cp932"
    return io.TextIOWrapper(upload, encoding=encoding, newline=""), encoding


def guess_mapping(headers: list[str], kind: str) -> dict[str, str]:
    allowed = set(import_fields(kind))
    by_name = {spelling: name for name, spellings in SYNONYMS.items() for spelling in spellings} | {
        name: name for name in allowed
    }
    mapping: dict[str, str] = {}
    for i, header in enumerate(headers):
        target = by_name.get(header.strip().lower().replace("_", " ")) or by_name.get(
            header.strip().lower()
        )
        if target in allowed and target not in mapping.values():
            mapping[str(i)] = target
    return mapping


def csv_import_create(*, upload: IO[bytes], file_name: str, kind: str, actor: Actor) -> CsvImport:
    """Read an uploaded CSV into chunks of rows; the first row names the columns."""
    if kind not in ImportKind.values:
        raise ValidationFailed([FieldError("kind", _("Unknown import kind."), "invalid_choice")])
    text, encoding = _text_stream(upload)
    reader = csv.reader(text)
    try:
        with transaction.atomic():
            headers = [h.strip() for h in next(reader, [])]
            if not any(headers):
                raise ValidationFailed([FieldError("file", _("The file is empty."), "empty")])
            if len(headers) > MAX_COLUMNS:
                raise ValidationFailed(
                    [FieldError("file", _("At most %d columns.") % MAX_COLUMNS, "max_length")]
                )
            imp = CsvImport.objects.create(
                kind=kind, file_name=file_name[:255], encoding=encoding, headers=headers,
                mapping=guess_mapping(headers, kind), created_by=actor,
            )  # fmt: skip
            count, sample = _store_chunks(imp, reader)
            imp.row_count, imp.sample = count, sample
            imp.save(update_fields=["row_count", "sample", "updated_at"])
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValidationFailed(
            [FieldError("file", _("Not a CSV file in UTF-8 or Shift_JIS: %s") % exc, "invalid")]
        ) from exc
    return imp


def _store_chunks(imp: CsvImport, reader: Iterator[list[str]]) -> tuple[int, list[list[str]]]:
    size = settings.IMPORT_CHUNK_ROWS
    count = 0
    sample: list[list[str]] = []
    rows: list[list[str]] = []
    lines: list[int] = []
    line = reader.line_num + 1  # type: ignore[attr-defined]  # where the next row starts
    for row in reader:
        starts, line = line, reader.line_num + 1  # type: ignore[attr-defined]
        if not any(cell.strip() for cell in row):
            continue
        count += 1
        row = [cell[:MAX_CELL] for cell in row[:MAX_COLUMNS]]
        if len(sample) < SAMPLE_ROWS:
            sample.append(row)
        rows.append(row)
        lines.append(starts)
        if len(rows) == size:
            CsvImportChunk.objects.create(
                csv_import=imp, first_row=count - size + 1, rows=rows, lines=lines
            )
            rows, lines = [], []
    if rows:
        CsvImportChunk.objects.create(
            csv_import=imp, first_row=count - len(rows) + 1, rows=rows, lines=lines
        )
    return count, sample


def csv_import_get(*, import_id: int, user: User) -> CsvImport:
    """An import its uploader (or the COO) may see."""
    from leads.access import Can, may

    qs = CsvImport.objects.select_related("job")
    if not may(user, Can.SEE_ALL_JOBS):
        qs = qs.filter(created_by=user)
    try:
        return qs.get(pk=import_id)
    except (CsvImport.DoesNotExist, ValueError) as exc:
        raise NotFound(_("No such import.")) from exc


def csv_import_start(*, imp: CsvImport, mapping: dict[str, str], actor: Actor) -> CsvImport:
    """Keep the mapping (column index → field) and start the load as a job."""
    allowed = set(import_fields(imp.kind))
    mapping = {k: v for k, v in mapping.items() if v}
    errors = [
        FieldError(f"column-{k}", _("Unknown field %s.") % v, "invalid_choice")
        for k, v in mapping.items()
        if v not in allowed or not (k.isascii() and k.isdigit()) or int(k) >= len(imp.headers)
    ]
    targets = list(mapping.values())
    errors += [
        FieldError("mapping", _("%s is mapped twice.") % t, "duplicate")
        for t in sorted({t for t in targets if targets.count(t) > 1})
    ]
    needed = ["email"] if imp.kind == ImportKind.LEADS else ["email", "type"]
    errors += [
        FieldError("mapping", _("Map a column to %s.") % n, "required")
        for n in needed
        if n not in targets
    ]
    if errors:
        raise ValidationFailed(errors)
    if imp.job_id is not None:
        raise ValidationFailed([FieldError("mapping", _("This import has already started."))])
    with transaction.atomic():
        imp.mapping = mapping
        # Row errors are written in the language of the person who started the import.
        params = {"import": imp.pk, "language": translation.get_language() or ""}
        imp.job = job_start(kind="csv_import", params=params, actor=actor)
        imp.save(update_fields=["mapping", "job", "updated_at"])
    return imp


@dataclass
class LoadReport:
    """What loading one chunk did (stored on the chunk), or a whole import (their sum)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    accepted: int = 0
    duplicates: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def error(self, chunk: CsvImportChunk, offset: int, field: str, message: str) -> None:
        """A problem of the chunk's row `offset`: kept with the file's line number and the row's
        own values, so the report can be fixed and imported again."""
        self.failed += 1
        if len(self.errors) < MAX_ERRORS:
            line = chunk.lines[offset] if offset < len(chunk.lines) else chunk.first_row + offset
            self.errors.append({
                "row": line, "field": field, "message": message,
                "values": chunk.rows[offset] if offset < len(chunk.rows) else [],
            })  # fmt: skip

    def add(self, other: dict[str, Any]) -> None:
        for name in ("rows", "created", "updated", "unchanged", "accepted", "duplicates", "failed"):
            setattr(self, name, getattr(self, name) + other[name])
        self.errors += other["errors"][: MAX_ERRORS - len(self.errors)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows, "created": self.created, "updated": self.updated,
            "unchanged": self.unchanged, "accepted": self.accepted,
            "duplicates": self.duplicates, "failed": self.failed, "errors": self.errors,
            "errors_truncated": self.failed > len(self.errors),
        }  # fmt: skip


def csv_import_run(
    *, import_id: int, report: Callable[[float], None], language: str = ""
) -> dict[str, Any]:
    """Load an import chunk by chunk. Each chunk commits with its own result, so a rerun (the
    job after a worker died) skips the chunks already loaded and still reports them."""
    with translation.override(language or None):
        return _run(import_id, report)


def _run(import_id: int, report: Callable[[float], None]) -> dict[str, Any]:
    imp = CsvImport.objects.select_related("created_by").get(pk=import_id)
    total = LoadReport()
    ids = list(
        CsvImportChunk.objects.filter(csv_import=imp)
        .order_by("first_row")
        .values_list("pk", flat=True)
    )
    for pk in ids:
        with transaction.atomic():
            chunk = CsvImportChunk.objects.select_for_update().get(pk=pk)
            if chunk.result is None:
                out = LoadReport()
                if imp.kind == ImportKind.EVENTS:
                    _load_events(imp, chunk, out)
                else:
                    _load_leads(imp, chunk, out)
                chunk.result = out.as_dict()
                chunk.save(update_fields=["result"])
        total.add(chunk.result)
        report(min(1.0, (chunk.first_row + len(chunk.rows) - 1) / max(imp.row_count, 1)))
    return total.as_dict()


def _mapped(imp: CsvImport, row: list[str]) -> dict[str, str]:
    return {
        target: row[int(col)].strip()
        for col, target in imp.mapping.items()
        if int(col) < len(row) and row[int(col)].strip()
    }


def _load_leads(imp: CsvImport, chunk: CsvImportChunk, out: LoadReport) -> None:
    valid: list[dict[str, Any]] = []
    for offset, row in enumerate(chunk.rows):
        data: dict[str, Any] = _mapped(imp, row)
        data.setdefault("source", "import")
        if "consent" in data:
            data["consent"] = data["consent"].lower() in ("1", "true", "yes", "on", "y", "はい")
        s = LeadFieldsSerializer(data=data, context={"form_input": True})
        if not s.is_valid():
            for name, messages in s.errors.items():
                out.error(chunk, offset, name, str(messages[0]))
            continue
        if "email" not in s.validated_data:
            out.error(chunk, offset, "email", _("An e-mail address is required."))
            continue
        valid.append(dict(s.validated_data))
    out.rows += len(chunk.rows)
    if valid:
        result = lead_intake_bulk(rows=valid, actor=imp.created_by)
        out.created += result.created
        out.updated += result.updated
        out.unchanged += result.unchanged


def _load_events(imp: CsvImport, chunk: CsvImportChunk, out: LoadReport) -> None:
    import json

    from leads.selectors import lead_ids_by_email

    items = []
    for row in chunk.rows:
        data: dict[str, Any] = dict(_mapped(imp, row))
        if "properties" in data:
            with contextlib.suppress(ValueError):  # the validator reports what is not JSON
                data["properties"] = json.loads(data["properties"])
        items.append(data)
    valid, rejected = parse_events(items, lead_ref=True)
    for r in rejected:
        for e in r["errors"]:
            out.error(chunk, r["index"], e["field"], e["message"])
    leads = lead_ids_by_email({e.email for _, e in valid if e.email})
    events = []
    for i, e in valid:
        lead_id = leads.get(e.email or "")
        if lead_id is None:
            out.error(chunk, i, "email", _("No lead with this e-mail address."))
            continue
        events.append(EventInput.of(e, index=i, lead_id=lead_id))
    out.rows += len(chunk.rows)
    if events:
        result = event_ingest(events=events)
        out.accepted += result.accepted
        out.duplicates += result.duplicates
