"""The default scoring rules of SPEC §4: feature-page view 3, document download 5, quote request 8."""

from decimal import Decimal

from django.db import migrations

DEFAULTS = [
    {"name": "Feature page view", "event_type": "page_view", "property_key": "url",
     "property_op": "contains", "property_value": "/features", "points": Decimal(3)},
    {"name": "Document download", "event_type": "document_download", "points": Decimal(5)},
    {"name": "Quote request", "event_type": "quote_request", "points": Decimal(8)},
]


def seed(apps, schema_editor):
    rule = apps.get_model("scoring", "ScoringRule")
    if rule.objects.exists():
        return
    for fields in DEFAULTS:
        rule.objects.create(kind="engagement", **fields)


def unseed(apps, schema_editor):
    rule = apps.get_model("scoring", "ScoringRule")
    for fields in DEFAULTS:
        rule.objects.filter(kind="engagement", name=fields["name"]).delete()


class Migration(migrations.Migration):
    dependencies = [("scoring", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
