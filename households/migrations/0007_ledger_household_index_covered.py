"""The ledger's and the summary's own household indexes go: (household, date) and the summary's
key (household, month, …) serve every lookup by household, and each index costs every append.
The summary is updated in place by every writer's upsert: on PostgreSQL its pages keep a fifth
free so an update stays on its page (a HOT update, no index entries) instead of adding a tuple
to four indexes."""

import django.db.models.deletion
from django.db import migrations, models


def summary_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE households_incomemonth SET (fillfactor = 80)")


def summary_fillfactor_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE households_incomemonth RESET (fillfactor)")


class Migration(migrations.Migration):

    dependencies = [
        ('households', '0006_income_month'),
    ]

    operations = [
        migrations.AlterField(
            model_name='incomeentry',
            name='household',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='income_entries', to='households.household'),
        ),
        migrations.AlterField(
            model_name='incomemonth',
            name='household',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='households.household', verbose_name='household'),
        ),
        migrations.RunPython(summary_fillfactor, summary_fillfactor_default),
    ]
