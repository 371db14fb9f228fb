"""Backfill the funnel rollups from the stage entries (a frozen copy of
`leads.services.stage_entries.stage_rollups_rebuild` as of this migration). Days are calendar
days in TIME_ZONE."""

import math
from collections import Counter

from django.conf import settings
from django.db import migrations
from django.utils import timezone
from zoneinfo import ZoneInfo

BACKFILL = """
    INSERT INTO leads_stagerollup (dimension, key, day, stage, reentry, bucket, entries, converted)
    
        SELECT CASE GROUPING(d.source, d.campaign, d.team_key, d.definition_key) WHEN 7 THEN 'source' WHEN 11 THEN 'campaign'
                    WHEN 13 THEN 'team' WHEN 14 THEN 'definition' ELSE '' END,
               CASE GROUPING(d.source, d.campaign, d.team_key, d.definition_key) WHEN 7 THEN d.source WHEN 11 THEN d.campaign
                    WHEN 13 THEN d.team_key WHEN 14 THEN d.definition_key ELSE '' END,
               d.day, d.stage, d.reentry, d.bucket, SUM(d.entries), SUM(d.converted)
        FROM (SELECT s.*, COALESCE(CAST(s.team_id AS TEXT), '') AS team_key,
                     COALESCE(CAST(s.definition_id AS TEXT), '') AS definition_key
              FROM (
            SELECT (x.entered_at AT TIME ZONE %s)::date AS day, x.stage, x.reentry,
                   CASE WHEN x.left_at IS NULL THEN -1 ELSE (CASE WHEN (EXTRACT(EPOCH FROM (x.left_at - x.entered_at))) < 60 THEN 0 ELSE 1 + floor(ln((EXTRACT(EPOCH FROM (x.left_at - x.entered_at))) / 60.0) / 0.01980262729617973)::int END) END AS bucket, 1 AS entries,
                   CASE WHEN (x.stage = 'lead' AND x.next_state IN ('mql', 'sal')) OR (x.stage = 'mql' AND x.next_state IN ('sal')) OR (x.stage = 'sal' AND x.next_state IN ('sql')) OR (x.stage = 'sql' AND x.next_state IN ('won')) THEN 1 ELSE 0 END AS converted, x.source, x.campaign,
                   x.team_id_at_entry AS team_id, x.definition_id_at_entry AS definition_id
            FROM leads_stageentry x WHERE x.stage IN ('lead', 'mql', 'sal', 'sql', 'won')) s) d
        GROUP BY GROUPING SETS ((d.day, d.stage, d.reentry, d.bucket), (d.day, d.stage, d.reentry, d.bucket, d.source), (d.day, d.stage, d.reentry, d.bucket, d.campaign), (d.day, d.stage, d.reentry, d.bucket, d.team_key), (d.day, d.stage, d.reentry, d.bucket, d.definition_key))
    
    ON CONFLICT (dimension, day, key, stage, reentry, bucket) DO UPDATE
    SET entries = leads_stagerollup.entries + EXCLUDED.entries,
        converted = leads_stagerollup.converted + EXCLUDED.converted
"""
NEXT = {"lead": ("mql", "sal"), "mql": ("sal",), "sal": ("sql",), "sql": ("won",), "won": ()}


def _bucket(seconds):
    return 0 if seconds < 60 else 1 + math.floor(math.log(seconds / 60.0) / math.log(1.02))


def backfill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKFILL, [settings.TIME_ZONE])
        return
    StageEntry = apps.get_model("leads", "StageEntry")
    StageRollup = apps.get_model("leads", "StageRollup")
    zone = ZoneInfo(settings.TIME_ZONE)
    entries, converted = Counter(), Counter()
    for x in StageEntry.objects.filter(stage__in=list(NEXT)).iterator():
        bucket = -1 if x.left_at is None else _bucket((x.left_at - x.entered_at).total_seconds())
        day = timezone.localtime(x.entered_at, zone).date()
        keys = {"": "", "source": x.source, "campaign": x.campaign,
                "team": "" if x.team_id_at_entry is None else str(x.team_id_at_entry),
                "definition": "" if x.definition_id_at_entry is None else str(x.definition_id_at_entry)}
        for dim, key in keys.items():
            k = (dim, key, day, x.stage, x.reentry, bucket)
            entries[k] += 1
            converted[k] += x.next_state in NEXT[x.stage]
    StageRollup.objects.bulk_create(
        [StageRollup(dimension=k[0], key=k[1], day=k[2], stage=k[3], reentry=k[4], bucket=k[5],
                     entries=n, converted=converted[k]) for k, n in entries.items()],
        batch_size=1000,
    )


def clear(apps, schema_editor):
    apps.get_model("leads", "StageRollup").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("leads", "0007_stage_rollups")]
    operations = [migrations.RunPython(backfill, clear)]
