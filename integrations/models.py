from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from integrations.choices import ImportKind
from leadflow.models import Job, TimeStampedModel
from leads.choices import Source


def new_public_key() -> str:
    return secrets.token_urlsafe(18)


class WebForm(TimeStampedModel):
    """A form on the company's own site that posts leads to `POST /forms/<public_key>/`. The key
    is public; what protects the form is its allowed origins, a honeypot field and a per-address
    rate limit. Accepted posts go through the same intake as the REST API, then the browser is
    sent to the thank-you page."""

    name = models.CharField(max_length=200)
    public_key = models.CharField(max_length=32, unique=True, default=new_public_key)
    fields = models.JSONField(default=list)  # lead fields on the form, in order (email first)
    required = models.JSONField(default=list, blank=True)  # of those, the ones that must be filled
    allowed_origins = models.JSONField(default=list)  # "https://www.example.co.jp"
    thank_you_url = models.URLField(max_length=500)
    source = models.CharField(max_length=32, choices=Source.choices, default=Source.WEB_FORM)
    campaign = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class WebFormSubmission(models.Model):
    """One accepted post of a web form: the lead it created or updated, where it came from, and
    what it sent (a form fills a lead's empty fields only; the rest is kept here, on the lead's
    timeline)."""

    form = models.ForeignKey(WebForm, on_delete=models.CASCADE, related_name="submissions")
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.BooleanField(default=False)
    submitted_at = models.DateTimeField(default=timezone.now)
    origin = models.CharField(max_length=300, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    values = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["form", "-submitted_at"], name="submission_form_time")]

    def __str__(self) -> str:
        return f"{self.form_id} → {self.lead_id} at {self.submitted_at:%Y-%m-%d %H:%M}"


class CsvImport(TimeStampedModel):
    """A CSV file a marketer uploaded: its columns, the mapping of columns to fields, and the job
    that loads it. The rows live in `CsvImportChunk`s, so neither the upload nor the load holds
    the whole file in memory."""

    kind = models.CharField(max_length=16, choices=ImportKind.choices, default=ImportKind.LEADS)
    file_name = models.CharField(max_length=255)
    encoding = models.CharField(max_length=32)  # what the upload was read as
    headers = models.JSONField(default=list)
    sample = models.JSONField(default=list)  # the first rows, for the mapping page
    row_count = models.PositiveIntegerField(default=0)
    mapping = models.JSONField(default=dict, blank=True)  # column index (as text) -> field
    job = models.OneToOneField(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="csv_import"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} import {self.file_name}"


class CsvImportChunk(models.Model):
    """Up to `IMPORT_CHUNK_ROWS` rows of an import, as JSON lists of cells, numbered from 1 (the
    header row is row 0). Once loaded it keeps what loading it did, in the same transaction."""

    csv_import = models.ForeignKey(CsvImport, on_delete=models.CASCADE, related_name="chunks")
    first_row = models.PositiveIntegerField()
    rows = models.JSONField()
    # The file's line on which each row starts (blank lines and quoted line breaks counted), so
    # the error report names the line a person sees in an editor.
    lines = models.JSONField(default=list)
    result = models.JSONField(null=True, blank=True)  # set when loaded

    class Meta:
        ordering = ["csv_import", "first_row"]
        constraints = [
            models.UniqueConstraint(fields=["csv_import", "first_row"], name="chunk_unique_row")
        ]

    def __str__(self) -> str:
        return f"{self.csv_import_id} from row {self.first_row}"
