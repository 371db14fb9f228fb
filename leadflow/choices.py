from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The groups of SPEC §7 and §13; migrations create them."""

    MARKETING = "marketing", _("Marketing")
    SALES = "sales", _("Sales")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    COO = "coo", _("COO")
    INSIDE_SALES = "inside_sales", _("Inside sales")


class Function(models.TextChoices):
    """The accountable side for a stage of the lifecycle (SPEC §3, §13); a team's function."""

    MARKETING = "marketing", _("Marketing")
    INSIDE_SALES = "inside_sales", _("Inside sales")
    SALES = "sales", _("Sales")
