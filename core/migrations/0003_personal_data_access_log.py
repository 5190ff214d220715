"""The personal-data access log, and a database guard that refuses to change or remove an entry.

PostgreSQL refuses UPDATE and DELETE by trigger (TRUNCATE, which only a database owner's
maintenance or a test run's flush issues, stays possible). SQLite refuses UPDATE; its DELETE
stays open because Django empties tables with DELETE between transactional tests.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


TABLE = "core_personaldataaccess"

POSTGRES_FORWARD = f"""
CREATE FUNCTION core_personal_data_access_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'the personal-data access log is append-only: ' || TG_OP || ' refused';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_personal_data_access_append_only
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION core_personal_data_access_append_only();
"""
POSTGRES_BACKWARD = f"""
DROP TRIGGER IF EXISTS core_personal_data_access_append_only ON {TABLE};
DROP FUNCTION IF EXISTS core_personal_data_access_append_only();
"""
SQLITE_FORWARD = f"""
CREATE TRIGGER core_personal_data_access_append_only BEFORE UPDATE ON {TABLE}
BEGIN SELECT RAISE(ABORT, 'the personal-data access log is append-only'); END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS core_personal_data_access_append_only;"


def guard(apps, schema_editor):
    sql = {"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql)


def unguard(apps, schema_editor):
    sql = {"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0002_sms_outbox"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='PersonalDataAccess',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='at')),
                ('username', models.CharField(db_index=True, max_length=150, verbose_name='username')),
                ('action', models.CharField(choices=[('view', 'Viewed'), ('export', 'Excel export'), ('pdf', 'PDF'), ('api', 'API')], db_index=True, max_length=10, verbose_name='action')),
                ('path', models.CharField(max_length=300, verbose_name='page or address')),
                ('households', models.JSONField(blank=True, default=list, help_text='Registry numbers.', verbose_name='households')),
                ('employees', models.JSONField(blank=True, default=list, help_text='Employer code / staff number of each employee.', verbose_name='employees')),
                ('filters', models.JSONField(blank=True, default=dict, verbose_name='filter')),
                ('rows', models.PositiveIntegerField(default=0, verbose_name='rows')),
                ('ip', models.GenericIPAddressField(blank=True, null=True, verbose_name='IP address')),
                ('user', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'personal-data access',
                'verbose_name_plural': 'personal-data access log',
                'ordering': ['-at', '-id'],
                'default_permissions': ('view',),
            },
        ),
        migrations.RunPython(guard, unguard),
    ]
