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


def _train_and_score(report: Any = None) -> Any:
    from analytics import prediction
    from leads.models import Lead
    from scoring.services import auto_mql_range

    top = Lead.objects.order_by("-pk").values_list("pk", flat=True).first() or 1

    def after_chunk(lo: int, hi: int) -> None:
        auto_mql_range(lo, hi)  # leads a `probability_at_least` criterion now lets through
        if report:
            report(min(1.0, hi / (top + 1)))

    return prediction.train_and_score(after_chunk=after_chunk)


@shared_task(**limits(7200))
def win_model_job(job_id: int) -> Any:
    return job_run(job_id=job_id, work=_train_and_score).result


@shared_task(**limits(7200))
def win_model_nightly() -> Any:
    from leadflow.jobs import job_create

    job = job_create(kind="win_model", params={"reason": "nightly"})
    return job_run(job_id=job.pk, work=_train_and_score).result


@shared_task(**limits(7200))
def advisor_nightly() -> int:
    from analytics.advisor import advisor_nightly as nightly

    return nightly()


@shared_task(**limits(7200))
def advisor_job(job_id: int) -> Any:
    from analytics.advisor import advisor_job_work

    params = Job.objects.get(pk=job_id).params
    return job_run(job_id=job_id, work=lambda report: advisor_job_work(params, report)).result
