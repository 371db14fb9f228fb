"""Leads waiting for a rescore move from a flag on the score row to an append-only queue.

The pending flags become marks before the flag is dropped; `rescore_seq` becomes `version`
(every score write adds one to it from now on), renamed in place: its type stays, so the score
table is not rewritten."""

import django.db.models.deletion
import django.db.models.functions.datetime
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0009_lead_fewer_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='RescoreMark',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('marked_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                ('lead', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='leads.lead')),
            ],
        ),
        migrations.RunSQL(
            "INSERT INTO leads_rescoremark (lead_id, marked_at) "
            "SELECT lead_id, CURRENT_TIMESTAMP FROM leads_leadscore WHERE needs_rescore",
            "UPDATE leads_leadscore SET needs_rescore = TRUE "
            "WHERE lead_id IN (SELECT lead_id FROM leads_rescoremark)",
        ),
        migrations.RemoveIndex(
            model_name='leadscore',
            name='leadscore_needs_rescore',
        ),
        migrations.RemoveField(
            model_name='leadscore',
            name='needs_rescore',
        ),
        migrations.RenameField(
            model_name='leadscore',
            old_name='rescore_seq',
            new_name='version',
        ),
    ]
