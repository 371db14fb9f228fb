"""A background job's progress, polled by the page that started it (htmx)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from leadflow.jobs import job_get
from leadflow.permissions import user_of
from leads.access import Can
from web.roles import requires
from web.views.base import object_errors


@require_GET
@requires(Can.READ)
@object_errors
def job_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    job = job_get(job_id=job_id, user=user_of(request))
    context = {"job": job, "percent": round(job.progress * 100)}
    if job.kind == "csv_import" and hasattr(job, "csv_import"):
        context["csv_import"] = job.csv_import
    return render(request, "web/partials/job_progress.html", context)
