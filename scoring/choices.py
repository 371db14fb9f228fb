from django.db import models
from django.utils.translation import gettext_lazy as _


class RuleKind(models.TextChoices):
    FIT = "fit", _("Fit (lead attributes)")
    ENGAGEMENT = "engagement", _("Engagement (behaviour events)")


class PropertyOp(models.TextChoices):
    CONTAINS = "contains", _("contains")
    EQUALS = "equals", _("equals")
    PREFIX = "prefix", _("starts with")


class FitOp(models.TextChoices):
    EQUALS = "equals", _("equals")
    IN = "in", _("is one of")
    CONTAINS = "contains", _("contains")
    BETWEEN = "between", _("between (numbers)")
    PRESENT = "present", _("is filled in")
    EMAIL_DOMAIN_IN = "email_domain_in", _("e-mail domain is one of")
