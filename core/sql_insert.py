"""An INSERT's SQL and parameters from an unsaved model instance, for the writers that put several
inserts into one statement (PostgreSQL's data-modifying ``WITH``): one round trip and one commit
instead of one per row, with the values prepared exactly as ``Model.save()`` prepares them.

    sql, params = insert_cte("l", lot)
    sql2, params2 = insert_cte("i", intake, refs={"lot_id": "(SELECT id FROM l)"})
    cursor.execute(f"WITH {sql}, {sql2} SELECT (SELECT id FROM l), (SELECT id FROM i)", params + params2)

``refs`` replaces a column's value with SQL, e.g. the id another part of the same statement
returns. Values go through ``VALUES (…)`` so PostgreSQL types each parameter by its column.
"""

from __future__ import annotations

from django.db import connection


def insert_cte(name: str, instance, *, refs: dict[str, str] | None = None, returning: str = "id") -> tuple[str, list]:
    """``name AS (INSERT INTO <table> (<columns>) VALUES (…) RETURNING <returning>)`` and its
    parameters: ``insert_values`` of one instance as a named part of a ``WITH``. ``refs`` maps a
    field's attname (``lot_id``) to the SQL that gives its value."""
    sql, params = insert_values([instance], refs=refs, returning=returning)
    return f"{name} AS ({sql})", params


def mark_saved(instance, pk) -> None:
    """After the statement: the instance is saved under ``pk``, as ``save()`` would leave it."""
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = connection.alias


def insert_values(instances, *, refs: dict | None = None, returning: str = "") -> tuple[str, list]:
    """``INSERT INTO <table> (<columns>) VALUES (…), (…) [RETURNING …]`` for unsaved instances of
    one model, to be placed in a ``WITH`` part by the caller. A ``refs`` value is SQL, or a
    function of the instance giving SQL (each line's own parent row, say)."""
    refs = refs or {}
    meta = type(instances[0])._meta
    quote = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not (f.primary_key and getattr(instances[0], f.attname) is None)]
    rows, params = [], []
    for instance in instances:
        cells = []
        for field in fields:
            ref = refs.get(field.attname)
            if ref is not None:
                cells.append(ref(instance) if callable(ref) else ref)
            else:
                cells.append("%s")
                params.append(field.get_db_prep_save(field.pre_save(instance, True), connection))
        rows.append(f"({', '.join(cells)})")
    sql = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES {', '.join(rows)}"
    return (f"{sql} RETURNING {returning}" if returning else sql), params
