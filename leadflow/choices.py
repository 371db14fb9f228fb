from django.db import models


class Role(models.TextChoices):
    """The four groups of SPEC §7; a migration creates them."""

    MARKETING = "marketing", "Marketing"
    SALES = "sales", "Sales"
    SALES_MANAGER = "sales_manager", "Sales manager"
    COO = "coo", "COO"


class Function(models.TextChoices):
    """The accountable side for a stage of the lifecycle."""

    MARKETING = "marketing", "Marketing"
    SALES = "sales", "Sales"
