from typing import Any

from celery import shared_task

from leadflow.celery import limits
from leadflow.jobs import job_run
from leadflow.models import Job


@shared_task(**limits(3600))
def csv_import_job(job_id: int) -> Any:
    from integrations.services.imports import csv_import_run

    params = Job.objects.get(pk=job_id).params
    import_id, language = int(params["import"]), str(params.get("language", ""))
    return job_run(
        job_id=job_id,
        work=lambda report: csv_import_run(import_id=import_id, report=report, language=language),
    ).status
