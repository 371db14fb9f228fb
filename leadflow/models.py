from django.db import models
from django.utils import timezone


class TimeStampedModel(models.Model):
    """Base for every leadflow model: when a row was created and last changed."""

    # A default rather than auto_now_add: imports and the demo seed carry historical times.
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
