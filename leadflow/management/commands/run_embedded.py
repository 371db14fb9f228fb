"""`make run`: the development server with the periodic jobs in-process (no broker, no beat)."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from leadflow.scheduler import EmbeddedScheduler


class Command(BaseCommand):
    help = "Serve on ADDRPORT with the beat schedule run by a thread of this process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--tick", type=float, default=5.0, help="seconds between checks")

    def handle(self, *args: Any, **opts: Any) -> None:
        scheduler = EmbeddedScheduler()
        scheduler.start(tick=opts["tick"])
        names = ", ".join(scheduler.entries)
        self.stdout.write(f"Periodic jobs run in this process: {names}")
        try:
            call_command("runserver", opts["addrport"], use_reloader=False)
        finally:
            scheduler.stop()
