"""E-mails to the people concerned (Django's e-mail backend; console in development)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from accounts.selectors import team_manager_list
from handoff.models import Handoff


def _lead_line(h: Handoff) -> str:
    lead = h.lead
    who = " ".join(p for p in (lead.last_name, lead.first_name) if p) or lead.email
    due = timezone.localtime(h.due_at)
    return f"{who} ({lead.company or lead.email}), due {due:%Y-%m-%d %H:%M %Z}"


def notify(*, kind: str, handoff_id: int) -> int:
    """Send the `kind` notice (new, warning, breach) of a handoff; returns messages sent."""
    h = Handoff.objects.select_related("lead", "assignee", "team").get(pk=handoff_id)
    if kind == "breach":
        recipients = (
            [u.email for u in team_manager_list(team_id=h.team_id) if u.email] if h.team_id else []
        )
        subject = f"[leadflow] SLA breached: handoff {h.pk}"
        body = (
            f"The TAL {_lead_line(h)} was not qualified or disqualified in time "
            f"(inside sales: {h.assignee})."
            if h.stage == "tal"
            else f"The handoff of {_lead_line(h)} was not answered in time "
            f"(assignee: {h.assignee})."
        )
    else:
        recipients = [h.assignee.email] if h.assignee and h.assignee.email else []
        subject = {
            "new": f"[leadflow] New handoff: {h.lead.email}",
            "warning": f"[leadflow] SLA soon: handoff {h.pk}",
        }[kind]
        opening = "A lead was handed to you" if kind == "new" else "Please answer soon"
        body = f"{opening}: {_lead_line(h)}."
    sent = 0
    for to in recipients:
        sent += send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=False)
    return sent
