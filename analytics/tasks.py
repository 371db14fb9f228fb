from typing import Any

from celery import shared_task

from analytics.backtest import backtest
from analytics.periods import Period
from leadflow.celery import limits
from leadflow.jobs import job_run
from leadflow.models import Job
from leads.models import Definition


@shared_task(**limits(3600))
def backtest_job(job_id: int) -> Any:
    from datetime import datetime

    params = Job.objects.get(pk=job_id).params
    definition = Definition.objects.get(pk=params["definition"])
    period = Period(datetime.fromisoformat(params["from"]), datetime.fromisoformat(params["to"]))
    return job_run(
        job_id=job_id,
        work=lambda report: backtest(definition=definition, period=period, report=report),
    ).result


@shared_task(**limits(600))
def figures_compact() -> int:
    from analytics.figures import figures_compact as compact

    return compact()
