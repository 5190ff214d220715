"""A money-flow snapshot states its cut-off (``as_of``), so that ``reconcile`` can recompute the
published figures at that instant; older snapshots were computed when they were written."""

from django.db import migrations, models
from django.db.models import F


def as_of_from_computed_at(apps, schema_editor):
    apps.get_model("settlement", "MoneyFlowSnapshot").objects.update(as_of=F("computed_at"))


class Migration(migrations.Migration):

    dependencies = [
        ("settlement", "0001_initial"),
    ]

    operations = [
        migrations.AddField(model_name="moneyflowsnapshot", name="as_of", field=models.DateTimeField(null=True)),
        migrations.RunPython(as_of_from_computed_at, migrations.RunPython.noop),
        migrations.AlterField(model_name="moneyflowsnapshot", name="as_of", field=models.DateTimeField(db_index=True)),
        migrations.AlterModelOptions(
            name="moneyflowsnapshot", options={"get_latest_by": "as_of", "ordering": ["-as_of", "-id"]},
        ),
    ]
