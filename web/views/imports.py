"""CSV import: upload, map the columns, watch the progress, read the per-row error report."""

from __future__ import annotations

import csv
import io

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from integrations.choices import ImportKind
from integrations.models import CsvImport
from integrations.services.imports import (
    csv_import_create,
    csv_import_get,
    csv_import_start,
    import_fields,
)
from leadflow.csvcells import safe_row
from leadflow.errors import LeadflowError, ValidationFailed
from leadflow.permissions import user_of
from leads.access import Can
from web.labels import FIELD_LABELS
from web.roles import requires
from web.views.base import error_text, object_errors


@require_http_methods(["GET", "POST"])
@requires(Can.MANAGE_INTAKE)
def import_new(request: HttpRequest) -> HttpResponse:
    errors: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None or upload.file is None:
            errors.append(_("Choose a CSV file."))
        else:
            try:
                imp = csv_import_create(
                    upload=upload.file, file_name=upload.name or "import.csv",
                    kind=request.POST.get("kind", ImportKind.LEADS), actor=user_of(request),
                )  # fmt: skip
            except ValidationFailed as exc:
                errors.append(error_text(exc))
            else:
                return redirect("web:import-detail", import_id=imp.pk)
    recent = CsvImport.objects.filter(created_by_id=request.user.pk).select_related("job")[:20]
    return render(request, "web/import_new.html", {
        "errors": errors, "kinds": ImportKind.choices, "recent": recent,
    }, status=400 if errors else 200)  # fmt: skip


@require_http_methods(["GET", "POST"])
@requires(Can.MANAGE_INTAKE)
@object_errors
def import_detail(request: HttpRequest, import_id: int) -> HttpResponse:
    imp = csv_import_get(import_id=import_id, user=user_of(request))
    errors: list[str] = []
    mapping = imp.mapping
    if request.method == "POST" and imp.job_id is None:
        mapping = {str(i): request.POST.get(f"column-{i}", "") for i in range(len(imp.headers))}
        try:
            csv_import_start(imp=imp, mapping=mapping, actor=user_of(request))
        except LeadflowError as exc:
            errors.append(error_text(exc))
        else:
            return redirect("web:import-detail", import_id=imp.pk)
    columns = [
        {"index": str(i), "header": h, "target": mapping.get(str(i), ""),
         "samples": [row[i] if i < len(row) else "" for row in imp.sample]}
        for i, h in enumerate(imp.headers)
    ]  # fmt: skip
    return render(request, "web/import_detail.html", {
        "imp": imp, "columns": columns, "errors": errors,
        "targets": [(f, FIELD_LABELS.get(f, f)) for f in import_fields(imp.kind)],
        "percent": round(imp.job.progress * 100) if imp.job else 0, "job": imp.job,
    }, status=400 if errors else 200)  # fmt: skip


@require_GET
@requires(Can.MANAGE_INTAKE)
@object_errors
def import_errors(request: HttpRequest, import_id: int) -> HttpResponse:
    """The per-row error report as CSV: the file's line, the field and the problem, then the
    row's own values under the file's headers (fix them there and import the report again)."""
    from web.labels import label_of

    imp = csv_import_get(import_id=import_id, user=user_of(request))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Line"), _("Field"), _("Problem"), *imp.headers])
    for e in (imp.job.result or {}).get("errors", []) if imp.job else []:
        writer.writerow(safe_row([e["row"], label_of(e["field"]) or e["field"], e["message"],
                                  *e.get("values", [])]))  # fmt: skip
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{imp.pk}-errors.csv"'
    return response
