from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """Read-only reports and the backtest. Depends on every other app; nothing depends on it."""

    name = "analytics"
    verbose_name = "Analytics"

    def ready(self) -> None:
        from leadflow import jobs

        jobs.job_tasks["backtest"] = "analytics.tasks.backtest_job"
        jobs.job_tasks["win_model"] = "analytics.tasks.win_model_job"
        jobs.job_tasks["advisor"] = "analytics.tasks.advisor_job"

        from analytics import prediction
        from scoring.services import rescore_followers

        rescore_followers.append(lambda ids, now: prediction.rescore(ids=ids, now=now))

        from analytics.figures import figures_tracker
        from leads.services.derived import tracker_register

        tracker_register(figures_tracker)

        from analytics import advisor
        from leads.services.definitions import publish_followers

        # A version published: its advisor reports for the default period, in the background.
        publish_followers.append(advisor.after_publish)
