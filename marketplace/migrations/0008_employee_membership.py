"""Employees belong to employers over date ranges. Every existing employee gets one open membership
at its current employer "since records began" (so no past order falls outside a range); on
PostgreSQL an exclusion constraint (btree_gist) refuses two overlapping ranges of one employee."""

import datetime

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

EPOCH = "2000-01-01"


def open_current_memberships(apps, schema_editor):
    Employee = apps.get_model("marketplace", "Employee")
    Membership = apps.get_model("marketplace", "Membership")
    start = datetime.date.fromisoformat(EPOCH)
    rows = [Membership(employee_id=pk, employer_id=employer_id, staff_number=number, valid_from=start)
            for pk, employer_id, number in Employee.objects.values_list("pk", "employer_id", "staff_number").iterator()]
    Membership.objects.bulk_create(rows, batch_size=5000)


NO_OVERLAP = (
    "ALTER TABLE marketplace_membership ADD CONSTRAINT membership_ranges_never_overlap "
    "EXCLUDE USING gist (employee_id WITH =, daterange(valid_from, valid_to, '[)') WITH &&)"
)


def exclusion_constraint(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        schema_editor.execute(NO_OVERLAP)


def drop_exclusion_constraint(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE marketplace_membership DROP CONSTRAINT IF EXISTS membership_ranges_never_overlap")


class Migration(migrations.Migration):

    dependencies = [
        ('marketplace', '0007_chinese_field_names_and_messages'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Membership',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('staff_number', models.CharField(help_text="the employee's number at this employer", max_length=20, verbose_name='staff number')),
                ('valid_from', models.DateField(verbose_name='from')),
                ('valid_to', models.DateField(blank=True, null=True, verbose_name='until (not included)')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('author', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('employee', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='memberships', to='marketplace.employee', verbose_name='employee')),
                ('employer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='memberships', to='marketplace.employer', verbose_name='employer')),
            ],
            options={
                'verbose_name': 'membership',
                'verbose_name_plural': 'memberships',
                'ordering': ['employee', 'valid_from'],
                'indexes': [models.Index(fields=['employee', 'valid_from'], name='marketplace_employe_fc7f87_idx'), models.Index(fields=['employer', 'valid_from'], name='marketplace_employe_855dd9_idx')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('valid_to__isnull', True)), fields=('employee',), name='membership_one_open_per_employee'), models.UniqueConstraint(fields=('employee', 'valid_from'), name='membership_starts_once'), models.CheckConstraint(condition=models.Q(('valid_to__isnull', True), ('valid_to__gt', models.F('valid_from')), _connector='OR'), name='membership_range_not_empty')],
            },
        ),
        migrations.RunPython(open_current_memberships, migrations.RunPython.noop),
        migrations.RunPython(exclusion_constraint, drop_exclusion_constraint),
    ]
