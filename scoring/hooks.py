"""How scoring hears about new events without leads importing scoring."""

from leadflow import jobs
from leads.services import events


def register() -> None:
    from scoring.engine import event_points_sql
    from scoring.services import score_leads_enqueue

    if score_leads_enqueue not in events.after_events:
        events.after_events.append(score_leads_enqueue)
    jobs.job_tasks["score_recompute"] = "scoring.tasks.score_recompute_job"
    if event_points_sql not in events.event_points:
        events.event_points.append(event_points_sql)
