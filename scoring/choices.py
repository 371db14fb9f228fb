from django.db import models


class RuleKind(models.TextChoices):
    FIT = "fit", "Fit (lead attributes)"
    ENGAGEMENT = "engagement", "Engagement (behaviour events)"


class PropertyOp(models.TextChoices):
    CONTAINS = "contains", "contains"
    EQUALS = "equals", "equals"
    PREFIX = "prefix", "starts with"


class FitOp(models.TextChoices):
    EQUALS = "equals", "equals"
    IN = "in", "is one of"
    CONTAINS = "contains", "contains"
    BETWEEN = "between", "between (numbers)"
    PRESENT = "present", "is filled in"
    EMAIL_DOMAIN_IN = "email_domain_in", "e-mail domain is one of"
