"""A model queryset compiled to SQL once (per thread and database) and run many times with new
parameters, its rows made into model instances as the ORM makes them (``select_related`` records
included): for the reads a page makes on every request, where building and compiling the same
query each time cost more than the database running it. On PostgreSQL the one text is also
prepared (core.sql_prepared): the joins these reads make cost the server more to plan than to run.

``build(*marks)`` returns the queryset with a stand-in for each parameter; the stand-ins are found
again in the compiled parameters by value, so they must be values no real parameter takes: ints
and texts, Decimals, dates (a date the backend passes as its ISO text, as SQLite does, is found
as that text and its argument passed as text too). Only
what one compiled statement can say fits: a fixed shape (no ``__in`` over a list whose length
varies), no ``prefetch_related``, no ``.values()`` (``logistics.selectors.trace_rows.Compiled``
is that one)."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS
from django.db.models import QuerySet
from django.db.models.query import get_related_populators

from .sql_prepared import prepared_cursor

_MARKS = (-7_320_000_001, -7_320_000_002, -7_320_000_003)


_MARK_TYPES = (int, str, Decimal, datetime.date)


def _iso(value: datetime.date) -> str:
    return value.isoformat()


def stand_in_slots(params, marks: tuple) -> list:
    """For each compiled parameter: the index of the stand-in it is (so of the argument that takes
    its place); (that index, a conversion) for a date compiled as its ISO text; or None for a
    parameter the statement itself fixed."""
    texts = {mark.isoformat(): i for i, mark in enumerate(marks) if type(mark) is datetime.date}
    slots = []
    for p in params:
        slot = None
        if type(p) in _MARK_TYPES:
            slot = next((i for i, mark in enumerate(marks) if type(p) is type(mark) and p == mark), None)
        if slot is None and type(p) is str and p in texts:
            slot = (texts[p], _iso)
        slots.append(slot)
    return slots


def filled(template, slots: list, args: tuple) -> list:
    """The compiled parameters with each stand-in replaced by its argument."""
    return [
        p if slot is None else args[slot] if type(slot) is int else slot[1](args[slot[0]])
        for p, slot in zip(template, slots, strict=True)
    ]


def compiled_once(local: threading.local, key, compile_: Callable[[], tuple]) -> tuple:
    """``compile_()``'s result, kept per thread under ``key``."""
    cache = getattr(local, "compiled", None)
    if cache is None:
        cache = local.compiled = {}
    compiled = cache.get(key)
    if compiled is None:
        compiled = cache[key] = compile_()
    return compiled


class CompiledModelQuery:
    """``query(*params)``: the list ``build(*params)`` would give, from SQL compiled once."""

    def __init__(self, build: Callable[..., QuerySet], marks: tuple = _MARKS, *, paged: bool = False) -> None:
        self.build = build
        self.marks = marks  # a stand-in per parameter: ints by default; a text, Decimal or date parameter needs one of its type
        self.paged = paged  # cut in SQL: ``query(*params, limit=, offset=)``, one compiled statement for every page
        self.local = threading.local()

    def __deepcopy__(self, memo) -> CompiledModelQuery:
        return self  # one per process, shared (a form field that holds one is deep-copied per form)

    def _compile(self, alias: str, arity: int) -> tuple:
        marks = self.marks[:arity]
        queryset = self.build(*marks)
        if queryset._prefetch_related_lookups or queryset._iterable_class.__name__ != "ModelIterable":
            raise ValueError("a compiled model query reads model instances, without prefetches")
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        if self.paged:
            if queryset.query.low_mark or queryset.query.high_mark is not None:
                raise ValueError("a paged compiled query is cut by its limit and offset, not sliced")
            sql += " LIMIT %s OFFSET %s"
        slots = stand_in_slots(params, marks)
        if sum(slot is not None for slot in slots) < arity:
            raise ValueError("a parameter's stand-in is missing from the compiled statement")
        select, klass_info = compiler.select, compiler.klass_info
        converters = compiler.get_converters([s[0] for s in select[0:compiler.col_count]])
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        init_list = [f[0].target.attname for f in select[start:end]]
        populators = get_related_populators(klass_info, select, alias)
        annotations = list(compiler.annotation_col_map.items())
        return sql, params, slots, compiler, converters, klass_info["model"], start, end, init_list, populators, annotations

    def __call__(self, *args, using: str = DEFAULT_DB_ALIAS, limit: int | None = None, offset: int = 0) -> list:
        compiled = compiled_once(self.local, (using, len(args)), lambda: self._compile(using, len(args)))
        sql, template, slots, compiler, converters, model, start, end, init_list, populators, annotations = compiled
        params = filled(template, slots, args)
        if self.paged:
            if limit is None:
                raise ValueError("a paged compiled query needs its limit")
            params += [int(limit), int(offset)]
        with prepared_cursor(using) as cursor:  # one fixed text: planned once per connection, not on every call
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if converters:
            rows = compiler.apply_converters(rows, converters)
        objects = []
        for row in rows:
            obj = model.from_db(using, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for name, position in annotations:
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects
