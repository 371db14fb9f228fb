"""Types of the apps' signatures: who asks and who acts.

Only for type checking (`if TYPE_CHECKING: from leadflow.types import Caller`): the user model is
Django's `auth.User`, and a request carries it or `AnonymousUser`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    # Whoever a read or a check is for: a signed-in user, or a visitor who is not.
    Caller: TypeAlias = User | AnonymousUser
    # Who makes a write: a user, or None for the system (the sweep, the automatic MQL, a key).
    Actor: TypeAlias = User | None
