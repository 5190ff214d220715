"""Statements prepared on the server, for the hot paths that run one fixed SQL text many times.

Django's PostgreSQL cursors bind parameters on the client and never prepare: PostgreSQL parses
and plans every statement again. For the few statements a page or a write runs on every call
(a paged trace's UNIONs, the intake's read and its five-row insert) planning costs as much as
running, so these go through :func:`prepared_cursor` instead: parameters bound on the server,
each text prepared once per connection (psycopg keeps the prepared statements, the least used
dropped past its ``prepared_max``), rows in binary where asked. Elsewhere (SQLite, psycopg 2)
it is Django's cursor. Either way the statement goes through Django's cursor wrapper: logged,
counted, and its errors Django's (``IntegrityError`` and the rest).
"""

from __future__ import annotations

from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections

_CURSOR_CLASSES: dict[bool, type] = {}
_LOADED = False

# How many statement texts keep their conversion (placeholders to $n): the prepared statements are
# a few dozen shapes; a checkout's write, one per cart shape (lines x batches), is the widest set.
CONVERTED_KEPT = 512


def _query_class():
    """psycopg's server-side query class, keeping each statement's conversion (``%s`` to ``$n``,
    split into parts) by its text. psycopg keeps it only for texts of at most 4,096 bytes and 50
    parameters (against ORMs' ever-new INSERTs of N rows); a prepared statement here is one of a
    few fixed shapes, and the checkout's single write (over 6 KB, some 80 parameters) was
    re-parsed by a regular expression on every order: 4 % of a checkout's instructions.
    None when psycopg's internals are not what this was written against (then psycopg's own)."""
    try:
        from psycopg._queries import PostgresQuery, _query2pg_nocache
    except ImportError:  # pragma: no cover - another psycopg
        return None
    from functools import lru_cache

    @lru_cache(maxsize=CONVERTED_KEPT)
    def converted(query: str, encoding: str):
        return _query2pg_nocache(query.encode(encoding), encoding)

    class KeptQuery(PostgresQuery):
        __slots__ = ()
        cache_info = converted.cache_info

        def convert(self, query, vars):
            if vars is None or type(query) is not str:
                return super().convert(query, vars)
            # the parts are read, never changed, by psycopg: shared between runs as its own cache does
            self.query, self._want_formats, self._order, self._parts = converted(query, self._tx.encoding)
            self.dump(vars)

    return KeptQuery


def _cursor_classes() -> dict[bool, type]:
    """{binary: a psycopg 3 cursor class binding on the server and preparing every statement}, or {}."""
    global _LOADED
    if not _LOADED:
        try:
            from django.db.backends.postgresql.base import ServerBindingCursor
        except ImportError:  # psycopg 2, or no PostgreSQL driver
            pass
        else:
            query_class = _query_class() or ServerBindingCursor._query_cls
            for binary in (False, True):

                class PreparedCursor(ServerBindingCursor):
                    _binary = binary
                    _query_cls = query_class

                    def execute(self, query, params=None, *, prepare=None, binary=None):
                        return super().execute(query, params, prepare=True, binary=self._binary if binary is None else binary)

                    def _send_query_prepared(self, name, pgq, *, binary=None):
                        # psycopg keeps the statement for ``cursor._query`` only when it runs unprepared;
                        # Django's query log (and the tests' statement counts) read it from there.
                        self._query = pgq
                        return super()._send_query_prepared(name, pgq, binary=binary)

                _CURSOR_CLASSES[binary] = PreparedCursor
        _LOADED = True
    return _CURSOR_CLASSES


@contextmanager
def prepared_cursor(using: str = DEFAULT_DB_ALIAS, *, binary: bool = False):
    """A cursor whose statements are prepared on PostgreSQL (psycopg 3); Django's cursor elsewhere.
    ``binary``: rows come in binary (no parsing of dates and numbers from text)."""
    connection = connections[using]
    cls = _cursor_classes().get(binary) if connection.vendor == "postgresql" else None
    if cls is None:
        with connection.cursor() as cursor:
            yield cursor
        return
    connection.ensure_connection()
    if connection.connection.prepare_threshold is None:
        # Django leaves psycopg's preparing off (None), which ``prepare=True`` cannot override; a
        # threshold no query reaches turns it on for the statements asked to be prepared only
        # (Django's own cursors bind on the client and are never prepared).
        connection.connection.prepare_threshold = 2**31 - 1
    with connection.wrap_database_errors:
        cursor = connection._prepare_cursor(cls(connection.connection))
    with cursor:
        yield cursor


def fetch(sql: str, params: list, using: str = DEFAULT_DB_ALIAS, *, prepare: bool = False, binary: bool = True) -> list[tuple]:
    """The rows of ``sql``; ``prepare``: as a prepared statement where the database allows it."""
    if prepare:
        with prepared_cursor(using, binary=binary) as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
