"""Rebuild the stage entries and the funnel rollups from the leads and the history.

Needed after loading history by other means than the services (COPY, restores) and after a
change of TIME_ZONE, which moves the calendar days the rollups are kept by."""

from typing import Any

from django.core.management.base import BaseCommand

from leads.services.stage_entries import stage_entries_rebuild, stage_rollups_rebuild


class Command(BaseCommand):
    help = "Rebuild the stage entries and the funnel rollups from the history."

    def handle(self, *args: Any, **options: Any) -> None:
        entries = stage_entries_rebuild()
        rollups = stage_rollups_rebuild()
        self.stdout.write(f"{entries} stage entries, {rollups} rollup rows")
