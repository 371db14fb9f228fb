from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from handoff.choices import DeliveryStatus, HandoffStatus
from leadflow.models import TimeStampedModel
from scoring.choices import FitOp


class Handoff(TimeStampedModel):
    """The hand-over of an MQL to inside or field sales, or of a TQL to field sales: who must
    answer (team and rep), by when (the stage SLA), and the answer (accept, or reject with a
    criterion code). Opened in the same transaction as the lead enters the stage; at most one is
    open per lead (a partial unique index)."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="handoffs")
    stage = models.CharField(
        max_length=8, default="mql", help_text="The stage entered: mql, tal or tql."
    )
    definition = models.ForeignKey(
        "leads.Definition", null=True, on_delete=models.PROTECT, related_name="+"
    )
    qualification = models.ForeignKey(
        "leads.LeadTransition",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The history row that entered the stage (its evaluation is why the lead was "
        "handed over).",
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, on_delete=models.SET_NULL, related_name="handoffs"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="handoffs"
    )
    status = models.CharField(
        max_length=16, choices=HandoffStatus.choices, default=HandoffStatus.OPEN
    )
    opened_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    warn_at = models.DateTimeField(
        help_text="When the assignee is warned (HANDOFF_WARNING_FRACTION of the SLA)."
    )
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    reassign_count = models.PositiveIntegerField(default=0)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=64, blank=True)
    note = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead"],
                condition=Q(status=HandoffStatus.OPEN),
                name="handoff_one_open_per_lead",
            ),
            models.CheckConstraint(
                condition=Q(status__in=HandoffStatus.values), name="handoff_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="handoff_status_due"),
            models.Index(fields=["assignee", "status"], name="handoff_assignee_status"),
            models.Index(fields=["team", "status"], name="handoff_team_status"),
        ]

    def __str__(self) -> str:
        return f"handoff {self.pk} of lead {self.lead_id} ({self.status})"

    @property
    def breached(self) -> bool:
        return self.breached_at is not None


class AssignmentRule(TimeStampedModel):
    """Routing of new handoffs: a condition on a lead field → a team or a rep. Rules are tried in
    `position` order and the first match wins; with none, handoffs go round-robin over every
    available rep."""

    position = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    field = models.CharField(max_length=64, blank=True)
    operator = models.CharField(max_length=16, choices=FitOp.choices)
    values = models.JSONField(default=list, blank=True)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(team__isnull=False) | Q(rep__isnull=False),
                name="assignment_rule_has_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.name}"


class WebhookSubscription(TimeStampedModel):
    """An outbound webhook: a URL, the secret its payloads are signed with (HMAC-SHA256) and the
    event types it receives (`*` for all)."""

    name = models.CharField(max_length=200)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=200)
    event_types = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.name} → {self.url}"

    def wants(self, event_type: str) -> bool:
        return "*" in self.event_types or event_type in self.event_types


class WebhookDelivery(TimeStampedModel):
    """One event for one subscriber. Written in the transaction of the change it announces, sent
    after commit by Celery, retried with exponential backoff; a sweep resends any pending one whose
    time has come, so a broker outage delays a delivery and never drops it (at least once)."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_type = models.CharField(max_length=64)
    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.subscription_id} ({self.status})"


class WebhookAttempt(models.Model):
    """The log of one delivery attempt: when, the response code (or the error), how long."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["attempted_at", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id}: {self.status_code or self.error}"
