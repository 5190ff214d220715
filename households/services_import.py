"""The writer of a registry import: all rows of a checked file or none, as an upsert keyed on the
registry number (户编号) — a number already in the registry updates that household, a new one
creates it, households not in the file stay as they are. Reading the file is households.excel.
"""

from __future__ import annotations

import copy
import uuid

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.spreadsheet import ImportResult, RowProblem

from .excel import _COMPARED, households_read_xlsx
from .models import Household


def households_import_xlsx(*, file, author=None, progress=None) -> ImportResult:
    """Import (create or update) households from an .xlsx file; all rows or none.

    Returns an ImportResult; when ``result.problems`` is not empty nothing was written.
    ``progress(rows_read)`` is called while the file is read (the background import shows it).
    """
    result, parsed = households_read_xlsx(file=file, progress=progress)
    if result.problems:
        result.nothing_written()
        return result
    try:
        _write(parsed, result, author)
    except IntegrityError:
        result.nothing_written()
        result.problems.append(RowProblem(0, "", _("The registry changed while importing; nothing was imported. Try again.")))
    return result


@transaction.atomic
def _write(parsed: list[Household], result: ImportResult, author) -> None:
    numbers = [h.number for h in parsed]
    existing: dict[str, Household] = {}
    for start in range(0, len(numbers), _CHUNK):
        chunk = numbers[start : start + _CHUNK]
        existing.update((h.number, h) for h in Household.objects.select_for_update().filter(number__in=chunk))
    to_create: list[Household] = []
    to_update: list[Household] = []
    changed_fields: dict[int, list[str]] = {}
    for household in parsed:
        current = existing.get(household.number)
        if current is None:
            to_create.append(household)
            continue
        changed = [name for name, attname in _COMPARED.items() if getattr(current, attname) != getattr(household, attname)]
        if not changed:
            result.unchanged += 1
            continue
        for name in changed:
            setattr(current, _COMPARED[name], getattr(household, _COMPARED[name]))
        to_update.append(current)
        changed_fields[current.pk] = changed
    now = timezone.now()
    for household in to_create:
        household.created_at = household.updated_at = now
    for household in to_update:
        household.updated_at = now
    _insert_many(Household, to_create)
    _update_many(Household, to_update, [*_COMPARED.values(), "updated_at"])
    created_ids: dict[str, int] = {}
    new_numbers = [h.number for h in to_create]
    for start in range(0, len(new_numbers), _CHUNK):
        chunk = new_numbers[start : start + _CHUNK]
        created_ids.update(Household.objects.filter(number__in=chunk).values_list("number", "pk"))
    for household in to_create:
        household.pk = created_ids[household.number]
    result.created, result.updated = len(to_create), len(to_update)
    _log_import(to_create, to_update, changed_fields, author, now)


_CHUNK = 2000  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits


def _insert_many(model, objects: list) -> None:
    """INSERT the objects, with values prepared by each field's get_db_prep_save as the ORM would.

    Django's bulk_create spends most of its time compiling its statement in Python. SQLite gets
    one prepared statement run for every row (executemany, a loop in C); PostgreSQL gets COPY,
    its bulk-load path (psycopg adapts the rows in C).
    """
    if not objects:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    table, columns = quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields)
    rows = [[f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] for obj in objects]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _copy(cursor, f"{table} ({columns})", rows)
        else:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})", rows)


def _update_many(model, objects: list, field_names: list[str]) -> None:
    """UPDATE each object's ``field_names`` by primary key (see _insert_many).

    bulk_update builds CASE WHEN chains whose cost grows with the batch squared. On PostgreSQL the
    new values are COPied into a temporary table shaped like the real one, then applied with one
    ``UPDATE ... FROM``.
    """
    if not objects:
        return
    fields = [model._meta.get_field(name) for name in field_names]
    quote = connection.ops.quote_name
    pk = quote(model._meta.pk.column)
    table = quote(model._meta.db_table)
    rows = [[*(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields), obj.pk] for obj in objects]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
            cursor.executemany(f"UPDATE {table} SET {sets} WHERE {pk} = %s", rows)
            return
        staging = quote(f"import_{uuid.uuid4().hex}")
        columns = ", ".join([*(quote(f.column) for f in fields), pk])
        cursor.execute(f"CREATE TEMPORARY TABLE {staging} AS SELECT {columns} FROM {table} WITH NO DATA")
        _copy(cursor, f"{staging} ({columns})", rows)
        sets = ", ".join(f"{quote(f.column)} = s.{quote(f.column)}" for f in fields)
        cursor.execute(f"UPDATE {table} SET {sets} FROM {staging} AS s WHERE {table}.{pk} = s.{pk}")
        cursor.execute(f"DROP TABLE {staging}")


def _copy(cursor, target: str, rows: list[list]) -> None:
    with cursor.cursor.copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _log_import(created, updated, changed_fields, author, now) -> None:
    """One history entry per household the import created or changed, naming the fields (never
    their values: the log must not hold personal data)."""
    from wagtail.models import ModelLogEntry

    content_type = ContentType.objects.get_for_model(Household)
    user = author if author is not None and author.is_authenticated else None
    template = ModelLogEntry(content_type=content_type, timestamp=now, user=user, uuid=uuid.uuid4(), content_changed=True)
    entries = []
    for households, action in ((created, "households.import_create"), (updated, "households.import_update")):
        for household in households:
            # Copies of one template: building 25,000 model instances from scratch costs seconds.
            entry = copy.copy(template)
            entry.__dict__.update(
                object_id=str(household.pk),
                label=f"{household.number} {household.head_name}",
                action=action,
                data={"fields": changed_fields.get(household.pk, [])},
            )
            entries.append(entry)
    _insert_many(ModelLogEntry, entries)


