from django.db import models
from django.utils.translation import gettext_lazy as _

from leads.choices import LeadState

# The stages whose entry opens a handoff: to the function owning it (SPEC §5, §13). A `tal`
# handoff is not answered with accept or reject: it is the IS rep's time to qualify or
# disqualify, with the same SLA, warning, breach and escalation (to the IS team's managers); it
# closes when the lead leaves `tal`, and the answer figures (ANSWERED_STAGES) leave it out.
HANDOFF_STAGES = (LeadState.MQL, LeadState.TAL, LeadState.TQL)
ANSWERED_STAGES = (LeadState.MQL, LeadState.TQL)


class HandoffStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    CLOSED = "closed", _("Closed (left mql otherwise)")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed (gave up)")
    CANCELLED = "cancelled", _("Cancelled (the webhook was switched off)")


class WebhookEvent(models.TextChoices):
    """What a subscriber may receive. `transition.<name>` for every lifecycle transition."""

    HANDOFF_OPENED = "handoff.opened", _("Handoff opened")
    HANDOFF_ACCEPTED = "handoff.accepted", _("Handoff accepted")
    HANDOFF_REJECTED = "handoff.rejected", _("Handoff rejected")
    HANDOFF_BREACHED = "handoff.breached", _("Handoff SLA breached")
    HANDOFF_REASSIGNED = "handoff.reassigned", _("Handoff re-assigned")
    TRANSITION_QUALIFY_MQL = "transition.qualify_mql", _("Lead qualified as MQL")
    TRANSITION_ACCEPT = "transition.accept", _("MQL accepted by sales")
    TRANSITION_REJECT = "transition.reject", _("MQL rejected by sales")
    TRANSITION_CLAIM = "transition.claim", _("Sales-generated lead claimed")
    TRANSITION_QUALIFY_SQL = "transition.qualify_sql", _("Lead qualified as SQL")
    TRANSITION_DISQUALIFY = "transition.disqualify", _("Lead disqualified")
    TRANSITION_WIN = "transition.win", _("Deal won")
    TRANSITION_LOSE = "transition.lose", _("Deal lost")
    TRANSITION_RECYCLE = "transition.recycle", _("Lost lead recycled")
    TRANSITION_ARCHIVE = "transition.archive", _("Lead archived")
    TRANSITION_IS_ACCEPT = "transition.is_accept", _("MQL accepted by inside sales")
    TRANSITION_QUALIFY_TQL = "transition.qualify_tql", _("TAL qualified as TQL")
    TRANSITION_IS_DISQUALIFY = "transition.is_disqualify", _("TAL disqualified by inside sales")
    TRANSITION_IS_CLAIM = "transition.is_claim", _("Inside-sales-generated lead claimed")
