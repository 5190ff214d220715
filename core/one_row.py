"""One row by a unique key, with the records a few one-to-one or many-to-one steps from it, in one
plain statement compiled once: for the reads made on every request (the session's user, an API
token's user, the allocation year), where the ORM compiling the same query each time cost more
than the database running it."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from .sql_prepared import prepared_cursor


class OneRowStatement:
    """One row of ``model`` by its primary key (or another unique field, ``by``) and the records on
    ``paths`` (one-to-one or many-to-one steps from it, e.g. ``employee__employer`` from a user) as
    one plain statement, built once per database, key and set of paths: what
    ``select_related(*paths).filter(pk=…).first()`` returns,
    without the ORM compiling the same query on every request (it took longer than running it).
    For the session's user and an API token's, read on every signed-in request. Missing records (a
    user who is no employee) come back cached as missing, as select_related leaves them. Each
    column goes through the converters the ORM would apply (SQLite's dates, decimals)."""

    def __init__(self, model, paths: tuple[str, ...], using: str, by: str = "pk") -> None:
        connection = connections[using]
        q = connection.ops.quote_name
        self.model, self.using = model, using
        # nodes: (model, alias, index of the parent node, the relation from the parent)
        self.nodes: list[tuple] = [(model, "t0", None, None)]
        by_path: dict[str, int] = {"": 0}
        joins = []
        for path in paths:
            prefix = ""
            for name in path.split("__"):
                parent_index = by_path[prefix]
                prefix = f"{prefix}__{name}" if prefix else name
                if prefix in by_path:
                    continue
                parent_model, parent_alias = self.nodes[parent_index][:2]
                field = parent_model._meta.get_field(name)
                if not (field.one_to_one or field.many_to_one):
                    raise ImproperlyConfigured(f"{model._meta.label}: {prefix} is not a single record")
                related, alias = field.related_model, f"t{len(self.nodes)}"
                if field.auto_created:  # a reverse one-to-one: the related row points at the parent
                    on = f"{alias}.{q(field.field.column)} = {parent_alias}.{q(field.field.target_field.column)}"
                else:
                    on = f"{alias}.{q(field.target_field.column)} = {parent_alias}.{q(field.column)}"
                joins.append(f"LEFT OUTER JOIN {q(related._meta.db_table)} {alias} ON {on}")
                by_path[prefix] = len(self.nodes)
                self.nodes.append((related, alias, parent_index, field))
        columns, self.fields, self.converters = [], [], []
        for node_model, alias, _parent, _field in self.nodes:
            fields = list(node_model._meta.concrete_fields)
            self.fields.append([f.attname for f in fields])
            for f in fields:
                columns.append(f"{alias}.{q(f.column)}")
                col = f.get_col(alias)
                self.converters.append((connection.ops.get_db_converters(col) + col.get_db_converters(connection), col))
        key = model._meta.pk if by == "pk" else model._meta.get_field(by)
        if not (key.primary_key or key.unique):
            raise ImproperlyConfigured(f"{model._meta.label}.{by} does not name one row")
        self.key = key
        self.sql = (f"SELECT {', '.join(columns)} FROM {q(model._meta.db_table)} t0 {' '.join(joins)} "
                    f"WHERE t0.{q(key.column)} = %s")

    def get(self, value):
        """The row whose key is ``value`` (its related records cached on it), or None."""
        connection = connections[self.using]
        with prepared_cursor(self.using) as cursor:  # read on every request: planned once per connection
            cursor.execute(self.sql, [self.key.get_db_prep_value(self.key.get_prep_value(value), connection)])
            row = cursor.fetchone()
        if row is None:
            return None
        values = list(row)
        for i, (converters, col) in enumerate(self.converters):
            for converter in converters:
                values[i] = converter(values[i], col, connection)
        objects, at = [], 0
        for (node_model, _alias, parent, field), attnames in zip(self.nodes, self.fields, strict=True):
            chunk = values[at:at + len(attnames)]
            at += len(attnames)
            pk_value = chunk[attnames.index(node_model._meta.pk.attname)]
            obj = None if pk_value is None else node_model.from_db(self.using, attnames, chunk)
            objects.append(obj)
            if parent is None or objects[parent] is None:
                continue
            field.set_cached_value(objects[parent], obj)
            if obj is not None and field.one_to_one:
                field.remote_field.set_cached_value(obj, objects[parent])
        return objects[0]


_statements: dict[tuple, OneRowStatement] = {}


def one_row_statement(model, paths: tuple[str, ...], using: str, by: str = "pk") -> OneRowStatement:
    key = (model._meta.label, paths, using, connections[using].vendor, by)
    statement = _statements.get(key)
    if statement is None:
        statement = _statements[key] = OneRowStatement(model, paths, using, by)
    return statement
