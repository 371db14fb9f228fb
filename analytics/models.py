"""The dashboard's figures, summed per calendar day (see `analytics.figures`)."""

from __future__ import annotations

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
