"""Foreign keys the database checks once per statement, for the ledgers written a million rows at a time.

PostgreSQL checks a FOREIGN KEY row by row: every inserted row queues a trigger that looks the
referenced row up and locks it, about 4 µs each even when all rows name the same one, and the
same for a column that is NULL. A settlement run writes a million settlement lines and a million
income entries a year; their seven keys were 22 of its 55 seconds (``bench/settlement.py``,
``EXPLAIN ANALYZE`` with the constraints immediate: 2.4 s of each 5.3 s chunk).

A ``Key`` here is the same rule checked per statement instead:

- **PostgreSQL.** After each INSERT or UPDATE of the referencing table, one trigger per
  statement reads the statement's new rows (a transition table) and looks for any whose key has
  no referenced row: one anti-join per key for the whole chunk. A DELETE of a referenced row, or
  a change of its key, is refused while a row refers to it, by a row trigger on the referenced
  table (those are rare; the WHEN clause keeps updates of other columns free).
- **SQLite** (the embedded default): the same rules as row triggers, except the one on deleting
  a referenced row. SQLite cannot defer a trigger, and Django empties a test database (and
  ``manage.py flush``) table by table in name order, households before their entries: a delete
  trigger would refuse that. Deletes there are refused by the models' ``on_delete=PROTECT``.

Either way a violation raises the driver's integrity error (Django's ``IntegrityError``) with the
key's name in the message, and the statement changes nothing. The difference from a real
foreign key: the check is immediate (at the end of the statement), not deferred to the commit,
so a referenced row must exist before the rows that name it — as every writer here does — and on
PostgreSQL a flush empties the tables with TRUNCATE, which these triggers leave alone.

``install`` and ``uninstall`` are called from migrations (``RunPython``) with the table and
column names as they stand at that migration. SQLite drops a table's triggers when a migration
rebuilds the table; tests write through each key on both databases (and delete through it on
PostgreSQL), so a lost trigger fails them.

The price: a statement that appends one row (an intake's income entry) pays for the trigger's
call and its lookups, about 0.05 ms against 0.005 ms for a row-by-row key. Only the two tables
settlement writes in bulk use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Key:
    """``table(columns)`` must name a row of ``ref_table(ref_columns)``; NULL in any column: no check."""

    name: str
    table: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]

    def __post_init__(self):
        if len(self.columns) != len(self.ref_columns) or not self.columns:
            raise ValueError(f"key {self.name}: columns and referenced columns must pair up")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _pairs(key: Key, left: str, right: str) -> str:
    return " AND ".join(f"{right}.{_q(r)} = {left}.{_q(c)}" for c, r in zip(key.columns, key.ref_columns, strict=True))


def _not_null(key: Key, alias: str) -> str:
    return " AND ".join(f"{alias}.{_q(c)} IS NOT NULL" for c in key.columns)


def _referenced(key: Key, old: str) -> str:
    """A row of the referencing table names the referenced row ``old``."""
    cond = " AND ".join(f"t.{_q(c)} = {old}.{_q(r)}" for c, r in zip(key.columns, key.ref_columns, strict=True))
    return f"EXISTS (SELECT 1 FROM {_q(key.table)} t WHERE {cond})"


def _ref_key_changed(key: Key) -> str:
    return " OR ".join(f"OLD.{_q(r)} IS DISTINCT FROM NEW.{_q(r)}" for r in key.ref_columns)


def _message(key: Key, what: str) -> str:
    return f"{what} violates key {key.name}: {key.table}({', '.join(key.columns)}) -> {key.ref_table}({', '.join(key.ref_columns)})"


def _pg_statements(table: str, keys: Sequence[Key]) -> list[str]:
    checks = "\n".join(
        f"""  IF EXISTS (SELECT 1 FROM (SELECT DISTINCT {', '.join(map(_q, key.columns))} FROM new_rows n
                         WHERE {_not_null(key, 'n')}) n
             WHERE NOT EXISTS (SELECT 1 FROM {_q(key.ref_table)} r WHERE {_pairs(key, 'n', 'r')})) THEN
    RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', CONSTRAINT = '{key.name}',
      MESSAGE = '{_message(key, "insert or update")}';
  END IF;"""
        for key in keys
    )
    fn = _q(f"{table}_keys_check")
    out = [
        f"CREATE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $body$\nBEGIN\n{checks}\n  RETURN NULL;\nEND\n$body$",
        f"CREATE TRIGGER {_q(f'{table}_keys_ins')} AFTER INSERT ON {_q(table)} REFERENCING NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()",
        f"CREATE TRIGGER {_q(f'{table}_keys_upd')} AFTER UPDATE ON {_q(table)} REFERENCING NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()",
    ]
    for key in keys:
        kept = _q(f"{key.name}_kept")
        out += [
            f"CREATE FUNCTION {kept}() RETURNS trigger LANGUAGE plpgsql AS $body$\nBEGIN\n"
            f"  IF {_referenced(key, 'OLD')} THEN\n"
            f"    RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', CONSTRAINT = '{key.name}',\n"
            f"      MESSAGE = '{_message(key, 'delete or key change')}';\n  END IF;\n  RETURN NULL;\nEND\n$body$",
            f"CREATE TRIGGER {_q(f'{key.name}_del')} AFTER DELETE ON {_q(key.ref_table)} FOR EACH ROW "
            f"EXECUTE FUNCTION {kept}()",
            f"CREATE TRIGGER {_q(f'{key.name}_upd')} AFTER UPDATE ON {_q(key.ref_table)} FOR EACH ROW "
            f"WHEN ({_ref_key_changed(key)}) EXECUTE FUNCTION {kept}()",
        ]
    return out


def _sqlite_statements(keys: Sequence[Key]) -> list[str]:
    out = []
    for key in keys:
        missing = (
            f"{_not_null(key, 'NEW')} AND NOT EXISTS (SELECT 1 FROM {_q(key.ref_table)} r WHERE {_pairs(key, 'NEW', 'r')})"
        )
        cols = ", ".join(map(_q, key.columns))
        refcols = ", ".join(map(_q, key.ref_columns))
        out += [
            f"CREATE TRIGGER {_q(f'{key.name}_ins')} BEFORE INSERT ON {_q(key.table)} FOR EACH ROW WHEN {missing} "
            f"BEGIN SELECT RAISE(ABORT, '{_message(key, 'insert')}'); END",
            f"CREATE TRIGGER {_q(f'{key.name}_upd')} BEFORE UPDATE OF {cols} ON {_q(key.table)} FOR EACH ROW "
            f"WHEN {missing} BEGIN SELECT RAISE(ABORT, '{_message(key, 'update')}'); END",
            f"CREATE TRIGGER {_q(f'{key.name}_refupd')} BEFORE UPDATE OF {refcols} ON {_q(key.ref_table)} FOR EACH ROW "
            f"WHEN ({_ref_key_changed(key)}) AND {_referenced(key, 'OLD')} "
            f"BEGIN SELECT RAISE(ABORT, '{_message(key, 'key change')}'); END",
        ]
    return out


def statements(vendor: str, table: str, keys: Sequence[Key]) -> list[str]:
    """The SQL that installs ``keys`` (all of ``table``) on ``vendor``."""
    if any(key.table != table for key in keys):
        raise ValueError("every key must belong to the table they are installed on")
    if vendor == "postgresql":
        return _pg_statements(table, keys)
    if vendor == "sqlite":
        return _sqlite_statements(keys)
    raise NotImplementedError(f"statement keys are not written for {vendor}")


def drop_statements(vendor: str, table: str, keys: Sequence[Key]) -> list[str]:
    if vendor == "postgresql":
        out = [f"DROP FUNCTION IF EXISTS {_q(f'{table}_keys_check')}() CASCADE"]
        return out + [f"DROP FUNCTION IF EXISTS {_q(f'{key.name}_kept')}() CASCADE" for key in keys]
    return [f"DROP TRIGGER IF EXISTS {_q(f'{key.name}_{op}')}" for key in keys for op in ("ins", "upd", "refupd")]


def install(schema_editor, table: str, keys: Sequence[Key]) -> None:
    for sql in statements(schema_editor.connection.vendor, table, keys):
        schema_editor.execute(sql, params=None)


def uninstall(schema_editor, table: str, keys: Sequence[Key]) -> None:
    for sql in drop_statements(schema_editor.connection.vendor, table, keys):
        schema_editor.execute(sql, params=None)
