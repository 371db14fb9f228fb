"""Rebuild the stage entries, the funnel rollups and the dashboard's figures from the leads, the
history and the handoffs.

Needed after loading history by other means than the services (COPY, restores) and after a
change of TIME_ZONE, which moves the calendar days the rollups are kept by."""

from typing import Any

from django.core.management.base import BaseCommand

from analytics.figures import figures_rebuild
from leads.services.stage_entries import stage_entries_rebuild, stage_rollups_rebuild


class Command(BaseCommand):
    help = "Rebuild the stage entries, the funnel rollups and the dashboard's figures."

    def handle(self, *args: Any, **options: Any) -> None:
        entries = stage_entries_rebuild()
        rollups = stage_rollups_rebuild()
        figures = figures_rebuild()
        self.stdout.write(
            f"{entries} stage entries, {rollups} rollup rows, {figures} figure rollup rows"
        )
