"""Writes for users, teams and API keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from accounts.choices import ApiKeyScope, MembershipRole
from accounts.models import ApiKey, Team, TeamMembership
from leadflow.choices import Function, Role
from leadflow.errors import FieldError, ValidationFailed

if TYPE_CHECKING:
    from leadflow.types import Caller


@transaction.atomic
def user_add(
    *,
    username: str,
    role: str,
    team: str | None = None,
    password: str | None = None,
    email: str = "",
) -> Any:
    """Create (or update) a user in the role's group; with a team, join it as rep or manager."""
    if role not in Role.values:
        raise ValidationFailed([FieldError("role", f"Unknown role {role!r}.", "invalid_choice")])
    if team and role not in (Role.SALES, Role.SALES_MANAGER, Role.INSIDE_SALES):
        raise ValidationFailed(
            [FieldError("team", "Only sales roles belong to a team.", "invalid")]
        )
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(username=username, defaults={"email": email})
    if email:
        user.email = email
    if password:
        user.set_password(password)
    elif not user.has_usable_password():
        user.set_unusable_password()
    user.save()
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    if team:
        # A team an inside-sales rep joins is created as an inside-sales team.
        function = Function.INSIDE_SALES if role == Role.INSIDE_SALES else Function.SALES
        team_obj, _ = Team.objects.get_or_create(name=team, defaults={"function": function})
        if role != Role.SALES_MANAGER and team_obj.function != function:
            raise ValidationFailed([FieldError(
                "team", f"Team {team!r} is a {team_obj.function} team.", "invalid")])  # fmt: skip
        membership_role = (
            MembershipRole.MANAGER if role == Role.SALES_MANAGER else MembershipRole.REP
        )
        if membership_role == MembershipRole.REP:
            TeamMembership.objects.filter(user=user, role=MembershipRole.REP).exclude(
                team=team_obj
            ).delete()
        TeamMembership.objects.update_or_create(
            team=team_obj, user=user, defaults={"role": membership_role}
        )
    return user


def api_key_create(*, name: str, scope: str = ApiKeyScope.INTAKE) -> tuple[ApiKey, str]:
    """A new key; the plaintext is returned once and only its hash is stored."""
    if scope not in ApiKeyScope.values:
        raise ValidationFailed([FieldError("scope", f"Unknown scope {scope!r}.", "invalid_choice")])
    api_key, key = ApiKey.objects.create_key(name=name, scope=scope)
    return cast(ApiKey, api_key), key


def profile_set_language(*, user: Caller, language: str) -> None:
    """The user's UI language; an empty one follows the browser."""
    from django.conf import settings

    from accounts.models import Profile

    if language and language not in dict(settings.LANGUAGES):
        raise ValidationFailed([FieldError("language", "Unknown language.", "invalid_choice")])
    Profile.objects.update_or_create(user=user, defaults={"language": language})


def tokens_rotate_on_credentials(sender: Any, instance: Any, **kwargs: Any) -> None:
    """`pre_save` of a user: a new password or a deactivation ends every API token the user
    had, whatever changed it (the admin, a management command, a password reset). A signal, as
    nothing else sees every write of a user row; it touches only the user's own tokens."""
    if instance.pk is None:
        return
    from rest_framework.authtoken.models import Token

    old = type(instance).objects.filter(pk=instance.pk).values("password", "is_active").first()
    if old is None:
        return
    if old["password"] != instance.password or (old["is_active"] and not instance.is_active):
        Token.objects.filter(user_id=instance.pk).delete()
