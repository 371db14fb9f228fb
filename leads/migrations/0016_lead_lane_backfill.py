"""A lead's lane for the leads that entered the line before lanes were kept: the first
`qualify_mql` (mgl) or `claim` (sgl) of its history. One set-based UPDATE, on PostgreSQL and
SQLite alike."""

from django.db import migrations

BACKFILL = """
    UPDATE leads_lead SET lane = (
        SELECT CASE t.transition WHEN 'qualify_mql' THEN 'mgl' ELSE 'sgl' END
        FROM leads_leadtransition t
        WHERE t.lead_id = leads_lead.id AND t.transition IN ('qualify_mql', 'claim')
        ORDER BY t.occurred_at, t.id
        LIMIT 1
    )
    WHERE lane = '' AND EXISTS (
        SELECT 1 FROM leads_leadtransition t
        WHERE t.lead_id = leads_lead.id AND t.transition IN ('qualify_mql', 'claim')
    )
"""


class Migration(migrations.Migration):
    dependencies = [("leads", "0015_inside_sales_stages_and_lanes")]
    operations = [migrations.RunSQL(BACKFILL, migrations.RunSQL.noop)]
