from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.services import user_add
from leadflow.choices import Role
from leadflow.errors import ValidationFailed


class Command(BaseCommand):
    help = "Create a user in a role's group (and team)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--team")
        parser.add_argument("--password")
        parser.add_argument("--email", default="")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            user = user_add(
                username=opts["username"],
                role=opts["role"],
                team=opts["team"],
                password=opts["password"],
                email=opts["email"],
            )
        except ValidationFailed as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(
            f"{user.username}: {opts['role']}" + (f" in {opts['team']}" if opts["team"] else "")
        )
