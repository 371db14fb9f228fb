"""The dashboard's figure rollups for the history already there (PostgreSQL; the embedded
SQLite keeps none). The same rebuild as `manage.py rebuild_reports`: it runs today's code, so it
comes after the migrations that code reads."""

from typing import Any

from django.db import migrations


def backfill(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    from analytics.figures import figures_rebuild

    figures_rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0001_figure_rollups"),
        ("handoff", "0003_handoff_stage"),
        ("leads", "0017_stage_lanes"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
