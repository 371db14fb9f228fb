"""Backfill the stage entries from the leads and the history (frozen copy of the SQL in
`leads.services.stage_entries.stage_entries_rebuild` as of this migration)."""

from django.db import migrations

BACKFILL = """
        INSERT INTO leads_stageentry (lead_id, stage, reentry, entered_at, left_at, next_state,
                                      team_id_at_entry, definition_id_at_entry, source, campaign)
        WITH h AS (
            SELECT t.lead_id, t.to_state, t.from_state, t.occurred_at, t.definition_id, t.team_after_id,
                   LEAD(t.occurred_at) OVER w AS left_at, LEAD(t.to_state) OVER w AS next_state,
                   ROW_NUMBER() OVER w AS n
            FROM leads_leadtransition t
            WINDOW w AS (PARTITION BY t.lead_id ORDER BY t.occurred_at, t.id)
        )
        SELECT l.id, 'lead', FALSE, l.created_at, h.occurred_at, COALESCE(h.to_state, ''), NULL, NULL,
               l.source, l.campaign
        FROM leads_lead l LEFT JOIN h ON h.lead_id = l.id AND h.n = 1
        UNION ALL
        SELECT h.lead_id, h.to_state, h.from_state = 'recycled', h.occurred_at, h.left_at,
               COALESCE(h.next_state, ''), h.team_after_id, h.definition_id, l.source, l.campaign
        FROM h JOIN leads_lead l ON l.id = h.lead_id
"""


class Migration(migrations.Migration):
    dependencies = [("leads", "0003_stageentry")]
    operations = [migrations.RunSQL(BACKFILL, "DELETE FROM leads_stageentry")]
