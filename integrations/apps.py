from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Web forms and CSV import"

    def ready(self) -> None:
        from integrations.tasks import csv_import_job
        from leadflow.jobs import job_tasks

        job_tasks["csv_import"] = csv_import_job.name
