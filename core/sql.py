"""INSERT statements built from unsaved model instances, for a writer that puts several inserts
into one PostgreSQL statement (data-modifying ``WITH`` parts) instead of one round trip each.

The values are prepared exactly as the ORM prepares them for ``save()`` (``pre_save`` fills
``auto_now_add`` fields, ``get_db_prep_save`` adapts the value), over every concrete column but
the primary key: a field added to a model is written here without anyone touching the SQL.
``refs`` replaces a column's value by an SQL expression, e.g. the id an earlier part returned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper


def insert_sql(
    objs: Sequence[models.Model], *, connection: BaseDatabaseWrapper, refs: dict[str, Callable[[models.Model], str]] | None = None,
    returning: str = "",
) -> tuple[str, list]:
    """``INSERT INTO <table> (<columns>) VALUES (…), (…) [RETURNING …]`` and its parameters."""
    refs = refs or {}
    meta = objs[0]._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    rows, params = [], []
    for obj in objs:
        cells = []
        for field in fields:
            if field.attname in refs:
                cells.append(refs[field.attname](obj))
            else:
                cells.append("%s")
                params.append(field.get_db_prep_save(field.pre_save(obj, True), connection))
        rows.append(f"({', '.join(cells)})")
    sql = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES {', '.join(rows)}"
    return (f"{sql} RETURNING {returning}" if returning else sql), params


def mark_saved(obj: models.Model, pk: int, *, connection: BaseDatabaseWrapper) -> None:
    """What ``save()`` leaves on an instance it inserted."""
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias
