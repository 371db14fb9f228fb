from django.db import models
from django.utils.translation import gettext_lazy as _


class MembershipRole(models.TextChoices):
    REP = "rep", _("Sales rep")
    MANAGER = "manager", _("Sales manager")


class ApiKeyScope(models.TextChoices):
    """`intake` may create leads and events and never read."""

    INTAKE = "intake", _("Intake (create leads and events)")
