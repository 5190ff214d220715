"""The income ledger's household, reverses and author keys are checked once per statement, not
row by row (core/statement_keys.py): settlement appends 100,000 entries in one statement, and
the three row checks cost it about 6 of its 55 seconds a year's run. The foreign keys are
dropped and the checks installed in one transaction, so no entry is ever unchecked.

"Reversed at most once" becomes a unique index of the entries that reverse one (a partial
index) instead of a one-to-one column's index of every entry, nearly all of them empty."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from core import statement_keys


def keys(apps):
    table = apps.get_model("households", "IncomeEntry")._meta.db_table
    household = apps.get_model("households", "Household")._meta.db_table
    user = apps.get_model(*settings.AUTH_USER_MODEL.split("."))._meta.db_table
    return table, [
        statement_keys.Key("income_entry_household", table, ("household_id",), household, ("id",)),
        statement_keys.Key("income_entry_reverses", table, ("reverses_id",), table, ("id",)),
        statement_keys.Key("income_entry_author", table, ("author_id",), user, ("id",)),
    ]


def install(apps, schema_editor):
    statement_keys.install(schema_editor, *keys(apps))


def uninstall(apps, schema_editor):
    statement_keys.uninstall(schema_editor, *keys(apps))


class Migration(migrations.Migration):

    dependencies = [
        ('households', '0009_ledger_source_index_lots_only'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='incomeentry',
            name='author',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='incomeentry',
            name='household',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='income_entries', to='households.household'),
        ),
        migrations.AlterField(
            model_name='incomeentry',
            name='reverses',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='reversed_by', to='households.incomeentry', verbose_name='reverses'),
        ),
        migrations.AddConstraint(
            model_name='incomeentry',
            constraint=models.UniqueConstraint(condition=models.Q(('reverses__isnull', False)), fields=('reverses',), name='income_entry_reversed_once'),
        ),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
