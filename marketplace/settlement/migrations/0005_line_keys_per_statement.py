"""A settlement line's run, refund line, (order line, batch) and (batch, household) are checked
once per statement, not row by row (core/statement_keys.py): a run inserts 100,000 lines in one
statement, and the row checks at commit were a third of its time. SQLite, which had no key for
the pairs (0004), now checks them too. Keys dropped and checks installed in one transaction."""

import importlib

import django.db.models.deletion
from django.db import migrations, models

from core import statement_keys

# 0004's pairs, dropped here (and added back if this migration is reversed).
COMPOSITE_KEYS = importlib.import_module("marketplace.settlement.migrations.0004_settlementline_composite_keys")


def keys(apps):
    t = lambda app, model: apps.get_model(app, model)._meta.db_table  # noqa: E731
    table = t("settlement", "SettlementLine")
    Key = statement_keys.Key
    return table, [
        Key("settlement_line_run", table, ("run_id",), t("settlement", "SettlementRun"), ("id",)),
        Key("settlement_line_refund_line", table, ("refund_line_id",), t("marketplace", "RefundLine"), ("id",)),
        Key("settlement_line_sold_from_batch", table, ("order_line_id", "batch_id"), t("marketplace", "OrderLineBatch"),
            ("line_id", "batch_id")),
        Key("settlement_line_share_of_batch", table, ("batch_id", "household_id"), t("logistics", "BatchShare"),
            ("batch_id", "household_id")),
    ]


def install(apps, schema_editor):
    COMPOSITE_KEYS.drop_composite_keys(apps, schema_editor)
    statement_keys.install(schema_editor, *keys(apps))


def uninstall(apps, schema_editor):
    statement_keys.uninstall(schema_editor, *keys(apps))
    COMPOSITE_KEYS.add_composite_keys(apps, schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ('logistics', '0006_stocktakes'),
        ('marketplace', '0012_payment_url_any_length'),
        ('settlement', '0004_settlementline_composite_keys'),
    ]

    operations = [
        migrations.AlterField(
            model_name='settlementline',
            name='refund_line',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='settlement_lines', to='marketplace.refundline'),
        ),
        migrations.AlterField(
            model_name='settlementline',
            name='run',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='lines', to='settlement.settlementrun'),
        ),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
