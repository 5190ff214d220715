"""A model queryset compiled to SQL once (per thread and database) and run many times with new
parameters, its rows made into model instances as the ORM makes them (``select_related`` records
included): for the reads a page makes on every request, where building and compiling the same
query each time cost more than the database running it.

``build(*marks)`` returns the queryset with a stand-in for each parameter; the stand-ins are found
again in the compiled parameters by value, so they must be values no real parameter takes. Only
what one compiled statement can say fits: a fixed shape (no ``__in`` over a list whose length
varies), no ``prefetch_related``, no ``.values()`` (``logistics.selectors.trace_rows.Compiled``
is that one)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.db.models.query import get_related_populators

_MARKS = (-7_320_000_001, -7_320_000_002, -7_320_000_003)


def stand_in_slots(params, marks: tuple) -> list[int | None]:
    """For each compiled parameter, the index of the stand-in it is (so of the argument that takes
    its place), or None for a parameter the statement itself fixed."""
    return [marks.index(p) if type(p) in (int, str) and p in marks else None for p in params]


def filled(template, slots: list, args: tuple) -> list:
    """The compiled parameters with each stand-in replaced by its argument."""
    return [p if slot is None else args[slot] for p, slot in zip(template, slots, strict=True)]


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

    def __init__(self, build: Callable[..., QuerySet], marks: tuple = _MARKS) -> None:
        self.build = build
        self.marks = marks  # a stand-in per parameter: ints by default; a text parameter needs a text stand-in
        self.local = threading.local()

    def _compile(self, alias: str, arity: int) -> tuple:
        marks = self.marks[:arity]
        queryset = self.build(*marks)
        if queryset._prefetch_related_lookups or queryset._iterable_class.__name__ != "ModelIterable":
            raise ValueError("a compiled model query reads model instances, without prefetches")
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
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

    def __call__(self, *args, using: str = DEFAULT_DB_ALIAS) -> list:
        compiled = compiled_once(self.local, (using, len(args)), lambda: self._compile(using, len(args)))
        sql, template, slots, compiler, converters, model, start, end, init_list, populators, annotations = compiled
        params = filled(template, slots, args)
        with connections[using].cursor() as cursor:
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
