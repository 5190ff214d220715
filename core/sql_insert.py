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

from django.db import DEFAULT_DB_ALIAS, connections


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
    instance._state.db = DEFAULT_DB_ALIAS


_SHAPES: dict = {}


def _shape(meta, with_pk: bool, refs: dict, connection) -> tuple:
    """(the fields a row gives, each field's ref or None, the fields given as parameters,
    ``INSERT INTO <table> (<columns>) VALUES ``, a row's SQL when no ref is a function), worked out
    once per model and set of refs: the hot writers insert the same shape every time."""
    key = (meta.label, with_pk, connection.vendor, tuple(refs.items()))
    shape = _SHAPES.get(key)
    if shape is None:
        quote = connection.ops.quote_name
        fields = [f for f in meta.concrete_fields if with_pk or not f.primary_key]
        field_refs = [refs.get(f.attname) for f in fields]
        values = [f for f, ref in zip(fields, field_refs, strict=True) if ref is None]
        head = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES "
        row = None if any(callable(r) for r in field_refs) else f"({', '.join('%s' if r is None else r for r in field_refs)})"
        shape = (fields, field_refs, values, head, row)
        if row is not None:  # a function among the refs is made anew by each call: not kept
            _SHAPES[key] = shape
    return shape


def insert_values(instances, *, refs: dict | None = None, returning: str = "") -> tuple[str, list]:
    """``INSERT INTO <table> (<columns>) VALUES (…), (…) [RETURNING …]`` for unsaved instances of
    one model, to be placed in a ``WITH`` part by the caller. A ``refs`` value is SQL, or a
    function of the instance giving SQL or (SQL, its parameters): each line's own parent row, say.
    Values that vary go in parameters, so that the text stays the same from one call to the next
    (a prepared statement is then reused)."""
    refs = refs or {}
    meta = type(instances[0])._meta
    # the default database's connection itself, not django.db.connection: each of the proxy's
    # attribute reads looks the connection up again, and every value's preparation reads several
    connection = connections[DEFAULT_DB_ALIAS]
    fields, field_refs, values, head, row = _shape(meta, getattr(instances[0], meta.pk.attname) is not None, refs, connection)
    rows, params = [], []
    for instance in instances:
        if row is not None:
            params += [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in values]
            continue
        cells = []
        for field, ref in zip(fields, field_refs, strict=True):
            if ref is None:
                cells.append("%s")
                params.append(field.get_db_prep_save(field.pre_save(instance, True), connection))
            else:
                sql = ref(instance) if callable(ref) else ref
                if isinstance(sql, tuple):
                    sql, ref_params = sql
                    params += ref_params
                cells.append(sql)
        rows.append(f"({', '.join(cells)})")
    sql = head + (", ".join(rows) if row is None else ", ".join([row] * len(instances)))
    return (f"{sql} RETURNING {returning}" if returning else sql), params
