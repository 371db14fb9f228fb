from django.conf import settings
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey

from accounts.choices import ApiKeyScope, MembershipRole
from leadflow.choices import Function
from leadflow.models import TimeStampedModel


class Team(TimeStampedModel):
    """A sales team, of field sales or of inside sales: the unit that receives handoffs of the
    stages its function owns, and whose manager answers for its SLA."""

    name = models.CharField(max_length=100, unique=True)
    function = models.CharField(
        max_length=16,
        choices=[(Function.SALES, Function.SALES.label),
                 (Function.INSIDE_SALES, Function.INSIDE_SALES.label)],
        default=Function.SALES,
    )  # fmt: skip

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TeamMembership(TimeStampedModel):
    """A user's place in a team: a rep works its handoffs, a manager manages it. A rep belongs
    to one team; a manager may manage several."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships"
    )
    role = models.CharField(max_length=16, choices=MembershipRole.choices)
    # An unavailable rep (holiday, full pipeline) is skipped by handoff assignment.
    is_available = models.BooleanField(default=True)
    # Round-robin: the rep waiting longest since their last handoff is next.
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="membership_unique_team_user"),
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(role=MembershipRole.REP),
                name="membership_rep_in_one_team",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=MembershipRole.values), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} of {self.team}"


class ApiKey(AbstractAPIKey):
    """A machine client's key (`Authorization: Api-Key <key>`), stored hashed, with a scope."""

    scope = models.CharField(max_length=16, choices=ApiKeyScope.choices, default=ApiKeyScope.INTAKE)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"


class Profile(models.Model):
    """A person's own settings for the web UI. An empty language follows the browser."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="profile"
    )
    language = models.CharField(max_length=8, blank=True, choices=settings.LANGUAGES)

    def __str__(self) -> str:
        return f"{self.user}: {self.language or 'browser'}"
