from django.db import models
from django.utils.translation import gettext_lazy as _


class HandoffStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    CLOSED = "closed", _("Closed (left mql otherwise)")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed (gave up)")


class WebhookEvent(models.TextChoices):
    """What a subscriber may receive. `transition.<name>` for every lifecycle transition."""

    HANDOFF_OPENED = "handoff.opened"
    HANDOFF_ACCEPTED = "handoff.accepted"
    HANDOFF_REJECTED = "handoff.rejected"
    HANDOFF_BREACHED = "handoff.breached"
    HANDOFF_REASSIGNED = "handoff.reassigned"
    TRANSITION_QUALIFY_MQL = "transition.qualify_mql"
    TRANSITION_ACCEPT = "transition.accept"
    TRANSITION_REJECT = "transition.reject"
    TRANSITION_CLAIM = "transition.claim"
    TRANSITION_QUALIFY_SQL = "transition.qualify_sql"
    TRANSITION_DISQUALIFY = "transition.disqualify"
    TRANSITION_WIN = "transition.win"
    TRANSITION_LOSE = "transition.lose"
    TRANSITION_RECYCLE = "transition.recycle"
    TRANSITION_ARCHIVE = "transition.archive"
