from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    LEADS = "leads", _("Leads")
    EVENTS = "events", _("Events")
