from django.db import models


class MembershipRole(models.TextChoices):
    REP = "rep", "Sales rep"
    MANAGER = "manager", "Sales manager"


class ApiKeyScope(models.TextChoices):
    """`intake` may create leads and events and never read."""

    INTAKE = "intake", "Intake (create leads and events)"
