"""How scoring hears about new events without leads importing scoring."""

from leads.services import events


def register() -> None:
    from scoring.services import score_leads_enqueue

    if score_leads_enqueue not in events.after_events:
        events.after_events.append(score_leads_enqueue)
