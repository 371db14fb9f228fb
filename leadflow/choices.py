from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The four groups of SPEC §7; a migration creates them."""

    MARKETING = "marketing", _("Marketing")
    SALES = "sales", _("Sales")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    COO = "coo", _("COO")


class Function(models.TextChoices):
    """The accountable side for a stage of the lifecycle."""

    MARKETING = "marketing", _("Marketing")
    SALES = "sales", _("Sales")
