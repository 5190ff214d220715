"""A settlement line's order line, batch and household are checked in pairs on PostgreSQL:
(order line, batch) against the order line's batches and (batch, household) against the batch's
shares — a stricter rule than the three single-column keys they replace, and one check fewer per
inserted line. The pairs are added (and validated) before the single keys are dropped, in one
transaction, so no line is ever unchecked. SQLite (the embedded default) keeps no keys for these
three columns: it cannot add a constraint to an existing table."""

import django.db.models.deletion
from django.db import migrations, models

# (constraint, columns of the settlement line, referenced model, its columns — unique there)
COMPOSITE_KEYS = (
    ("settlement_line_sold_from_batch", ("order_line_id", "batch_id"), ("marketplace", "OrderLineBatch"), ("line_id", "batch_id")),
    ("settlement_line_share_of_batch", ("batch_id", "household_id"), ("logistics", "BatchShare"), ("batch_id", "household_id")),
)


def add_composite_keys(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    qn = schema_editor.quote_name
    table = apps.get_model("settlement", "SettlementLine")._meta.db_table
    for name, columns, (app, model), referenced in COMPOSITE_KEYS:
        schema_editor.execute(
            f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(name)} FOREIGN KEY ({', '.join(map(qn, columns))}) "
            f"REFERENCES {qn(apps.get_model(app, model)._meta.db_table)} ({', '.join(map(qn, referenced))}) "
            f"DEFERRABLE INITIALLY DEFERRED"
        )


def drop_composite_keys(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    qn = schema_editor.quote_name
    table = apps.get_model("settlement", "SettlementLine")._meta.db_table
    for name, *_rest in COMPOSITE_KEYS:
        schema_editor.execute(f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}")


class Migration(migrations.Migration):

    dependencies = [
        ('settlement', '0003_settlementline_channel'),
    ]

    operations = [
        migrations.RunPython(add_composite_keys, drop_composite_keys, elidable=False),
        migrations.AlterField(
            model_name='settlementline',
            name='batch',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='settlement_lines', to='logistics.packedbatch'),
        ),
        migrations.AlterField(
            model_name='settlementline',
            name='household',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='settlement_lines', to='households.household'),
        ),
        migrations.AlterField(
            model_name='settlementline',
            name='order_line',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='settlement_lines', to='marketplace.orderline'),
        ),
    ]
