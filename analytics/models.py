"""The dashboard's figures, summed per calendar day (see `analytics.figures`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

UNDATED = "0001-01-01"  # the day of figures that are not kept per day (the criteria card)


class FigureRow(models.Model):
    """A figure of the dashboard (`figure`, e.g. `h.breached`) for one calendar day of
    `TIME_ZONE` and one key: definition version, team, rep (0 when the figure has none) and up
    to two free keys (a criterion code, a reason, a source and campaign). `n`, `leads`, `won`
    and `amount` are the measures the figure uses."""

    day = models.DateField()
    figure = models.CharField(max_length=16)
    definition_id = models.BigIntegerField(default=0)
    team_id = models.BigIntegerField(default=0)
    rep_id = models.BigIntegerField(default=0)
    key = models.CharField(max_length=200, blank=True)
    key2 = models.CharField(max_length=200, blank=True)
    n = models.BigIntegerField(default=0)
    leads = models.BigIntegerField(default=0)
    won = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=20, decimal_places=2, default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.figure} {self.day} {self.key}/{self.key2}: {self.n}"


class FigureRollup(FigureRow):
    """The figures summed per day and key. Written only by the compaction of `FigureDelta` rows
    and by the rebuild."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["figure", "day", "definition_id", "team_id", "rep_id", "key", "key2"],
                name="figurerollup_key",
            ),
        ]


class FigureDelta(FigureRow):
    """A change to `FigureRollup`, written in the transaction of the change that caused it.
    Insert-only, so concurrent writers never wait on a shared rollup row; the compaction
    (every minute) folds them in, and reports read both."""

    class Meta:
        indexes = [models.Index(fields=["figure", "day"], name="figuredelta_figure_day")]


class WinModel(models.Model):
    """One nightly training of the predictive score (`analytics.prediction`): a logistic
    regression of winning on the lead's attributes and engagement, or, with too few wins in the
    history, the record that there is none. Its id is the model's version; the latest row is the
    one in use (a `not_enough_history` row means no model)."""

    class Status(models.TextChoices):
        TRAINED = "trained"
        NOT_ENOUGH_HISTORY = "not_enough_history"

    trained_at = models.DateTimeField()
    status = models.CharField(max_length=24, choices=Status.choices)
    # The closed leads read: all of them, and those the model was fitted on / held out.
    leads = models.IntegerField(default=0)
    wins = models.IntegerField(default=0)
    train_leads = models.IntegerField(default=0)
    holdout_leads = models.IntegerField(default=0)
    holdout_wins = models.IntegerField(default=0)
    history_from = models.DateTimeField(null=True, blank=True)
    holdout_from = models.DateTimeField(null=True, blank=True)
    # {"intercept": b, "window_days": n, "categories": [{attribute, value, weight}],
    #  "events": [{type, weight}]}: everything scoring a lead needs.
    coefficients = models.JSONField(default=dict, blank=True)
    auc = models.FloatField(null=True, blank=True)
    brier = models.FloatField(null=True, blank=True)
    # [{low, high, leads, predicted, won, actual}] over the held-out leads, per band of the
    # predicted probability.
    calibration = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"win model v{self.pk} ({self.status})"


class AdvisorSnapshot(models.Model):
    """An advisor report (`analytics.advisor`) as computed at `computed_at`, for one stage,
    period, role scope and published version. Read in place of computing it anew while it is
    younger than `ADVISOR_SNAPSHOT_MAX_AGE`; the nightly pass recomputes the default period's
    for every scope asked for lately, so the COO's page reads stored rows at any size."""

    stage = models.CharField(max_length=8)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    # "all", or a digest of the SQL that selects the scope's leads (`advisor.scope_key`).
    scope = models.CharField(max_length=64)
    definition_id = models.BigIntegerField(default=0)
    # Someone whose scope this is: the nightly pass recomputes the scope as theirs.
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    asked_at = models.DateTimeField()
    computed_at = models.DateTimeField()
    seconds = models.FloatField(default=0)
    report = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["stage", "period_start", "period_end", "scope", "definition_id"],
                name="advisorsnapshot_key",
            ),
        ]

    def __str__(self) -> str:
        return f"advisor {self.stage} {self.period_start:%Y-%m-%d}–{self.period_end:%Y-%m-%d}"
