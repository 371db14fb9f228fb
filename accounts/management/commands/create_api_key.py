from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.choices import ApiKeyScope
from accounts.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key and print it once (only its hash is stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--scope", default=ApiKeyScope.INTAKE, choices=ApiKeyScope.values)

    def handle(self, *args: Any, **opts: Any) -> None:
        _, key = api_key_create(name=opts["name"], scope=opts["scope"])
        self.stdout.write(key)
