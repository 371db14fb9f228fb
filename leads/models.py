from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower, Now, Trim
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leadflow.choices import Function
from leadflow.models import TimeStampedModel
from leads.choices import ActorKind, DefinitionStatus, LeadState, Source, TransitionName
from leads.lifecycle import LeadLifecycle


class Definition(TimeStampedModel):
    """The COO's versioned MQL/SQL definition: per stage the criteria, the accountable side and
    the SLA, plus the recycling cool-offs. Its id is its version number; exactly one is published
    at a time, and every evaluation and transition names the one it used."""

    name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=16, choices=DefinitionStatus.choices, default=DefinitionStatus.DRAFT
    )
    document = models.JSONField(default=dict)
    published_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status=DefinitionStatus.PUBLISHED),
                name="definition_one_published",
            ),
            models.CheckConstraint(
                condition=Q(status__in=DefinitionStatus.values), name="definition_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.pk} {self.name} ({self.status})"

    @property
    def version(self) -> int:
        return int(self.pk)

    def stage(self, state: str) -> dict[str, Any]:
        return dict(self.document.get("stages", {}).get(state) or {})

    @property
    def has_inside_sales(self) -> bool:
        """Whether its MQLs go to inside sales first (the TAL/TQL stages of SPEC §13)."""
        return "tal" in self.document.get("stages", {})


class LeadManager(models.Manager["Lead"]):
    """Leads always come with their score row (a one-to-one join on the primary key)."""

    def get_queryset(self) -> models.QuerySet[Lead]:
        return super().get_queryset().select_related("scores")


class Lead(LeadLifecycle, TimeStampedModel):
    """A person at a company who may buy: from inquiry to won or lost. Its lifecycle `state`
    changes only through the transitions in `leads/lifecycle.py`."""

    # Normalised (NFKC, trimmed, lower-case); unique by a constraint, which, unlike unique=True,
    # adds no second (LIKE) index that no query uses.
    email = models.CharField(max_length=254)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    first_name_kana = models.CharField(max_length=100, blank=True)
    last_name_kana = models.CharField(max_length=100, blank=True)
    company = models.CharField(max_length=200, blank=True)
    department = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=32, blank=True)  # E.164
    industry = models.CharField(max_length=100, blank=True)
    company_size = models.PositiveIntegerField(null=True, blank=True)  # employees
    country = models.CharField(max_length=64, blank=True)
    website = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=32, choices=Source.choices, default=Source.OTHER)
    campaign = models.CharField(max_length=200, blank=True)
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    utm_term = models.CharField(max_length=200, blank=True)
    utm_content = models.CharField(max_length=200, blank=True)
    consent = models.BooleanField(default=False)
    attributes = models.JSONField(default=dict, blank=True)
    # Sales qualification fields.
    budget = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    decision_maker = models.BooleanField(null=True, blank=True)
    timeline = models.DateField(null=True, blank=True)
    need = models.TextField(max_length=2000, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # users are deactivated, not deleted
    )

    objects = LeadManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "-created_at"], name="lead_state_created"),
            models.Index(fields=["owner", "state"], name="lead_owner_state"),
            models.Index(fields=["team", "state"], name="lead_team_state"),
            models.Index(fields=["source", "campaign"], name="lead_source_campaign"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=LeadState.values), name="lead_state_valid"
            ),
            models.CheckConstraint(condition=Q(source__in=Source.values), name="lead_source_valid"),
            models.CheckConstraint(condition=~Q(email=""), name="lead_email_not_empty"),
            # Whatever writes a lead, the e-mail is its dedupe key: trimmed and lower-case (the
            # services also apply NFKC, which SQL cannot check).
            models.CheckConstraint(
                condition=Q(email=Lower(Trim("email"))), name="lead_email_normalised"
            ),
            models.UniqueConstraint(fields=["email"], name="lead_email_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name) if p)

    def _scores(self) -> LeadScore | None:
        try:
            return self.scores
        except LeadScore.DoesNotExist:
            return None

    @property
    def fit_score(self) -> Decimal:
        row = self._scores()
        return row.fit if row else Decimal(0)

    @property
    def engagement_score(self) -> Decimal:
        row = self._scores()
        return row.engagement if row else Decimal(0)

    @property
    def win_probability(self) -> float | None:
        row = self._scores()
        return row.win_probability if row else None

    @property
    def win_model(self) -> int | None:
        row = self._scores()
        return row.win_model if row else None

    @property
    def score(self) -> Decimal:
        return self.fit_score + self.engagement_score


class LeadScore(models.Model):
    """A lead's current fit and engagement scores. They live in their own narrow row so that a
    full recompute rewrites ~60 bytes per lead instead of the whole lead and its indexes.

    Writers of events and lead fields never touch this row: they append a `RescoreMark`. Every
    score write adds one to `version`; a full recompute writes a lead only if its version is still
    what the recompute's snapshot read, so a newer incremental result is never overwritten.

    No index on `total` or `version`, and fillfactor 80 (migration 0002): a score write changes
    no indexed column and stays a HOT update, never touching an index."""

    lead = models.OneToOneField(
        Lead, primary_key=True, on_delete=models.CASCADE, related_name="scores"
    )
    fit = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0))
    engagement = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0))
    total = models.GeneratedField(
        expression=F("fit") + F("engagement"),
        output_field=models.DecimalField(max_digits=13, decimal_places=2),
        db_persist=True,
    )
    version = models.PositiveIntegerField(default=0)
    # The predictive score (`analytics.prediction`): the probability of winning and the version
    # of the model that gave it (`analytics.WinModel`); none while there is no model.
    win_probability = models.FloatField(null=True, blank=True)
    win_model = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.lead_id}: fit {self.fit} + engagement {self.engagement}"


class RescoreMark(models.Model):
    """A lead whose scores may be out of date: appended in the transaction of each write that can
    change them (new events, edited fields, a new lead). An incremental rescore locks the leads'
    score rows, deletes the marks it can see and then computes, so every mark it deletes is in
    what it computes; a mark committed after that stays for the next rescore or the sweep.

    A queue, not a flag on the score row: an append lands on the table's last page, where setting
    a flag rewrote a random page of the score table and of its index for every lead."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    marked_at = models.DateTimeField(db_default=Now())

    def __str__(self) -> str:
        return f"{self.lead_id} @ {self.marked_at}"


class LeadChange(models.Model):
    """Who changed which fields of a lead, when and through what (an edit in the UI or the API,
    an intake of an existing lead, a CSV import): each field's value before and after. The
    lead's timeline shows it next to its events and transitions."""

    class Via(models.TextChoices):
        EDIT = "edit", _("edited")
        INTAKE = "intake", _("updated by an integration or a web form")
        IMPORT = "import", _("updated by a CSV import")

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="changes")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    via = models.CharField(max_length=16, choices=Via.choices)
    changes = models.JSONField(help_text="{field: [before, after]}")
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["lead", "-occurred_at"], name="change_lead_time")]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.via} {sorted(self.changes)}"


class LeadTransition(models.Model):
    """One row of the append-only lifecycle history: which transition moved the lead, who did it,
    who answered for it before and after, under which definition version, and the per-criterion
    evaluation that justified it.

    PostgreSQL refuses UPDATE and DELETE of its rows (a trigger, migration 0006), so nothing it
    refers to can be deleted either: users and teams are deactivated, leads archived."""

    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="history")
    transition = models.CharField(max_length=32, choices=TransitionName.choices)
    from_state = models.CharField(max_length=16, choices=LeadState.choices)
    to_state = models.CharField(max_length=16, choices=LeadState.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_kind = models.CharField(max_length=8, choices=ActorKind.choices)
    responsible_before = models.CharField(max_length=16, choices=Function.choices)
    responsible_after = models.CharField(max_length=16, choices=Function.choices)
    team_before = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    team_after = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    owner_before = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    owner_after = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=64, blank=True)
    note = models.TextField(max_length=2000, blank=True)
    amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    override = models.BooleanField(default=False)
    definition = models.ForeignKey(
        Definition, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    evaluation = models.JSONField(default=list, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["lead", "-occurred_at"], name="history_lead_time"),
            models.Index(fields=["to_state", "occurred_at"], name="history_to_state_time"),
            models.Index(fields=["occurred_at"], name="history_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(actor_kind=ActorKind.SYSTEM, actor__isnull=True)
                | Q(actor_kind=ActorKind.USER),
                name="history_system_has_no_actor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.from_state} → {self.to_state} ({self.transition})"


class Event(models.Model):
    """A behaviour event of a lead (page view, download, quote request…): what engagement
    scoring and `activity_within` criteria read. A client-supplied `external_id` is unique, so a
    replayed event is a duplicate, not a second event."""

    # Indexed by (lead, -occurred_at) below; a second single-column index would only slow inserts.
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events", db_index=False)
    type = models.CharField(max_length=64)
    occurred_at = models.DateTimeField()
    properties = models.JSONField(default=dict, blank=True)
    # Unique by a constraint, not `unique=True`: on PostgreSQL that adds a second index for
    # `LIKE` beside the unique one, which no query uses and every insert writes.
    external_id = models.CharField(max_length=128, null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    # The points of the rules that neither decay nor cap, computed at ingest under the rules
    # whose fingerprint is `points_key`. Only a cache for the recompute: an event whose key is
    # not the current rules' is evaluated from its type and properties instead.
    points = models.FloatField(null=True, blank=True, editable=False)
    points_key = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        # Every read of events is per lead (scoring, criteria, the timeline, the backtest's
        # self-join) or a full pass. A (type, time) index served none of them, yet was the most
        # written index of an event insert (migration 0012).
        indexes = [
            models.Index(fields=["lead", "-occurred_at"], name="event_lead_time"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["external_id"], name="event_external_id_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.type} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class IdempotencyRecord(models.Model):
    """The first response to a request sent with an `Idempotency-Key`, replayed to its repeats
    for `IDEMPOTENCY_TTL_HOURS`. Scoped per client (API key or user)."""

    client = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    # Text, not jsonb: a replay must be byte-identical, and jsonb reorders keys.
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="idempotency_client_key"),
        ]

    def __str__(self) -> str:
        return f"{self.client}:{self.key}"


class StageEntry(models.Model):
    """One entry of a lead into a lifecycle stage: when, from where (`reentry` if from recycled,
    or a TQL sent back to tal),
    and — once it left — when and to which state. Kept in step with the history inside the same
    transactions (lead creation opens the `lead` entry; every transition closes the open entry and
    opens the next), so the funnel is one indexed GROUP BY instead of window functions over the
    whole history. `source` and `campaign` are the lead's first touch, copied for grouping."""

    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="stage_entries", db_index=False
    )
    stage = models.CharField(max_length=16, choices=LeadState.choices)
    reentry = models.BooleanField(default=False)
    entered_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)
    next_state = models.CharField(max_length=16, blank=True)
    team_id_at_entry = models.BigIntegerField(null=True, blank=True)
    definition_id_at_entry = models.BigIntegerField(null=True, blank=True)
    source = models.CharField(max_length=32, blank=True)
    campaign = models.CharField(max_length=200, blank=True)
    # The lead's lane (SPEC §13), "" until it has one; set on its earlier entries when it gets it.
    lane = models.CharField(max_length=3, blank=True, default="", db_default="")

    class Meta:
        indexes = [
            models.Index(fields=["entered_at", "stage"], name="stageentry_entered"),
            models.Index(
                fields=["lead"], condition=Q(left_at__isnull=True), name="stageentry_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} in {self.stage} from {self.entered_at:%Y-%m-%d}"


class StageRollup(models.Model):
    """The funnel's daily figures, so a report over months reads thousands of rows instead of
    millions of stage entries. Per dimension (`""` for the total, `source`, `campaign`, `team`,
    `definition`, `lane`) and its key, per calendar day of entry (in `TIME_ZONE`), stage and
    re-entry, and per duration bucket (`leads.durations`; -1 while the entries are still in the
    stage): how many entries, and how many of them converted.

    Written only by the compaction of `StageDelta` rows and by the rebuild from the entries."""

    dimension = models.CharField(max_length=16, blank=True)
    key = models.CharField(max_length=200, blank=True)
    day = models.DateField()
    stage = models.CharField(max_length=16, choices=LeadState.choices)
    reentry = models.BooleanField(default=False)
    bucket = models.SmallIntegerField()
    entries = models.IntegerField(default=0)
    converted = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dimension", "day", "key", "stage", "reentry", "bucket"],
                name="stagerollup_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dimension or 'total'}={self.key} {self.day} {self.stage}[{self.bucket}]"


class StageDelta(models.Model):
    """A change to the funnel rollups, written in the transaction that opened or closed a stage
    entry. Insert-only, so concurrent transitions never wait on a shared rollup row; the
    compaction (every minute) folds them into `StageRollup`, and reports read both."""

    day = models.DateField()
    stage = models.CharField(max_length=16, choices=LeadState.choices)
    reentry = models.BooleanField(default=False)
    bucket = models.SmallIntegerField()
    entries = models.IntegerField()
    converted = models.IntegerField(default=0)
    source = models.CharField(max_length=32, blank=True)
    campaign = models.CharField(max_length=200, blank=True)
    team_id = models.BigIntegerField(null=True, blank=True)
    definition_id = models.BigIntegerField(null=True, blank=True)
    lane = models.CharField(max_length=3, blank=True, default="", db_default="")

    class Meta:
        indexes = [models.Index(fields=["day"], name="stagedelta_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.stage}[{self.bucket}] {self.entries:+d}"
