"""The rows a trace is built from, read in a fixed number of statements whatever the size of the books.

Two costs dominated a trace before this module, both per statement rather than per row:
Django compiling a ``.values()`` queryset to SQL (about a millisecond each for these joins,
every time), and PostgreSQL planning eight-way joins to the small tables (facilities, grades,
SKUs, villages). So:

- every fact statement is a ``.values()`` queryset with scalar parameters only (a subquery stands
  in for a list of ids), compiled to SQL once per thread and database (:class:`Compiled`) and run
  with the new parameters; its rows go through the converters ``.values()`` applies;
- fact statements join at most three tables; the names of the facilities, grades, SKUs and
  villages they mention are read by id in one more statement (:func:`names_of`).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    DateTimeField,
    DecimalField,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce, TruncSecond

from core.compiled_query import compiled_once, filled, stand_in_slots
from core.sql_prepared import fetch
from households.models import Household, Township, Village

from ..models import (
    BatchStock,
    Facility,
    Grade,
    Lot,
    PackedBatch,
    PackingInput,
    Produce,
    QualityInspection,
    ShipmentLine,
    Sku,
)

# Stand-ins for the parameters while a statement is compiled; found again in the compiled
# parameters by value, so they must be values no real parameter takes.
_MARKS = (-7_310_000_001, -7_310_000_002)


class Compiled:
    """A ``.values()`` queryset compiled to SQL once (per thread and database alias) and run many
    times with new parameters: ``build(*marks)`` returns the queryset with a stand-in for each
    parameter; ``statement(*params)`` returns its rows as dicts, as ``.values()`` would. A ``paged``
    statement is cut in SQL: ``statement(*params, offset=, limit=)`` (LIMIT and OFFSET are
    parameters too, so one compiled statement serves every page)."""

    def __init__(self, build: Callable[..., QuerySet], marks: tuple = _MARKS, *, paged: bool = False, prepare: bool | None = None,
                 with_: Callable[..., tuple[str, list]] | None = None) -> None:
        self.build = build
        self.marks = marks
        self.paged = paged
        self.prepare = paged if prepare is None else prepare  # the page statements: prepared on PostgreSQL
        self.with_ = with_  # ``with_(connection, *marks)``: (a WITH clause the statement's conditions read, its parameters)
        self.local = threading.local()

    def with_clause(self, alias: str, arity: int) -> tuple[str, list, list]:
        """(the WITH clause, its parameters with stand-ins, where each stand-in goes); ("", [], []) without one."""
        if self.with_ is None:
            return "", [], []
        sql, params = self.with_(connections[alias], *self.marks[:arity])
        return sql, params, stand_in_slots(params, self.marks)

    def _compile(self, alias: str, arity: int, *, with_clause: bool = True):
        query = self.build(*self.marks[:arity]).query
        compiler = query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        fields = [s[0] for s in compiler.select[0:compiler.col_count]]
        names = list(query.selected) if query.selected else [*query.extra_select, *query.values_select, *query.annotation_select]
        if self.paged:
            sql += " LIMIT %s OFFSET %s"
        if with_clause and self.with_ is not None:
            # LIMIT and OFFSET stay the last parameters: the WITH clause's go first
            with_sql, with_params, _slots = self.with_clause(alias, arity)
            sql, params = f"{with_sql} {sql}", (*with_params, *params)
        return sql, params, stand_in_slots(params, self.marks), compiler, _needed(compiler.get_converters(fields), names, connections[alias]), names

    def compiled(self, using: str, arity: int) -> tuple:
        """(sql, parameters with stand-ins, where each stand-in goes, compiler, converters, column names)."""
        return compiled_once(self.local, using, lambda: self._compile(using, arity))

    def __call__(self, *args, using: str = DEFAULT_DB_ALIAS, offset: int = 0, limit: int | None = None) -> list[dict]:
        sql, template, slots, compiler, converters, names = self.compiled(using, len(args))
        params = filled(template, slots, args)
        if self.paged:
            if limit is None:
                raise ValueError("a paged statement needs its limit")
            params += [int(limit), int(offset)]
        rows = fetch(sql, params, using, prepare=self.prepare)
        if converters:
            rows = compiler.apply_converters(rows, converters)
        return [dict(zip(names, row, strict=True)) for row in rows]


# Columns a statement selects only to sort by: their values are never read, so never converted.
_ORDER_ONLY = frozenset({"e_sec"})


def _needed(converters: dict, names: list[str], connection) -> dict:
    """The converters whose work changes a value: none for a column selected only to sort by; on
    PostgreSQL none of the expressions' casts to int, float or Decimal, which psycopg's rows already
    are (each is a call per value: some 750 per household trace)."""
    on_pg = connection.vendor == "postgresql"
    kept = {}
    for i, (convs, expression) in converters.items():
        if names[i] in _ORDER_ONLY:
            continue
        if on_pg and not _bare_value_of_another_type(expression):
            convs = [c for c in convs if getattr(c, "__qualname__", "") != _CAST_QUALNAME]
        if convs:
            kept[i] = (convs, expression)
    return kept


# BaseExpression.convert_value's int/float/Decimal casts (the lambdas it returns for those fields).
_CAST_QUALNAME = Value(0, output_field=IntegerField()).convert_value.__qualname__
_PYTHON_TYPE = {"IntegerField": int, "BigIntegerField": int, "SmallIntegerField": int, "FloatField": float, "DecimalField": Decimal}


def _bare_value_of_another_type(expression) -> bool:
    """A ``Value`` is sent as its Python value, not cast: ``Value(0, output_field=DecimalField())`` comes
    back an int, and only its converter makes it a Decimal."""
    if not isinstance(expression, Value) or expression.value is None:
        return False
    wanted = _PYTHON_TYPE.get(expression.output_field.get_internal_type())
    return wanted is not None and type(expression.value) is not wanted

LOT_FIELDS = (
    "id", "code", "weight_kg", "created_at", "grade_id", "origin_id", "household__number", "household__village_id",
    "intake__created_at", "intake__void__id",
)
BATCH_FIELDS = (
    "id", "code", "units", "unit_weight_kg", "packed_at", "best_before", "inspection_status", "on_hold", "hold_reason",
    "packing_run_id", "packing_run__code", "packing_run__waste_kg", "sku_id", "station_id",
)
LINE_FIELDS = (
    "id", "lot_id", "batch_id", "dispatched", "received", "loss_reason", "shipment__code", "shipment__status",
    "shipment__dispatched_at", "shipment__received_at", "shipment__origin_id", "shipment__destination_id",
)
INSPECTION_FIELDS = ("id", "batch_id", "inspected_at", "passed", "notes")
STOCK_FIELDS = ("batch_id", "quantity", "reserved", "facility_id")
HOUSEHOLD_FIELDS = ("id", "number", "village__name")


def _batches_of_lots(lots: Q) -> QuerySet:
    """Ids of the batches packed from the lots matching ``lots`` (a Q on PackingInput's lot)."""
    return PackedBatch.objects.filter(packing_run__in=PackingInput.objects.filter(lots).values("run_id")).values("id")


def _where(name: str, ids) -> Q:
    """``name`` is ``ids``: an id, a subquery of ids, or a condition (:class:`_InCte`) already on that column."""
    if isinstance(ids, int):
        return Q(**{name: ids})
    if isinstance(ids, Func):
        return Q(ids)
    return Q(**{f"{name}__in": ids})


def _lines(lots: QuerySet | int, batches: QuerySet | int) -> QuerySet:
    """Shipment lines of the lots and of the batches: a UNION ALL rather than an OR, which would
    keep PostgreSQL from using either index (the caller puts them in id order)."""
    of_lots = ShipmentLine.objects.filter(_where("lot_id", lots)).order_by().values(*LINE_FIELDS)
    of_batches = ShipmentLine.objects.filter(_where("batch_id", batches)).order_by().values(*LINE_FIELDS)
    return of_lots.union(of_batches, all=True)


def _inspections(batches: QuerySet | int) -> QuerySet:
    return QualityInspection.objects.filter(_where("batch_id", batches)).order_by("inspected_at", "pk").values(*INSPECTION_FIELDS)


def _stock(batches: QuerySet | int) -> QuerySet:
    return BatchStock.objects.filter(_where("batch_id", batches)).order_by("batch_id", "facility_id").values(*STOCK_FIELDS)


def _latest_inspection(outer: str = "id"):
    """The date of a batch's latest inspection (the last in (date, id) order), or NULL."""
    return Subquery(QualityInspection.objects.filter(batch_id=OuterRef(outer)).order_by("-inspected_at", "-pk").values("inspected_at")[:1])


def _kind_of_code(code) -> QuerySet:
    parts = [
        model.objects.filter(**{field_name: code}).order_by().annotate(trace_kind=Value(k, output_field=IntegerField()))
        .values("trace_kind", "id")
        for k, (model, field_name) in enumerate(((PackedBatch, "code"), (Lot, "code"), (Household, "number")))
    ]
    return parts[0].union(*parts[1:], all=True)


# Which of batch (0), lot (1) or household (2) the code is, in the whole books (the county office's scope).
kind_of_code = Compiled(_kind_of_code, marks=("\x1ftrace code\x1f",), prepare=True)

# The subject's own row, by id.
batch_row = Compiled(lambda pk: PackedBatch.objects.filter(pk=pk).values(*BATCH_FIELDS, b_inspected_at=_latest_inspection()), prepare=True)
lot_row = Compiled(lambda pk: Lot.objects.filter(pk=pk).values(*LOT_FIELDS), prepare=True)
household_row = Compiled(lambda pk: Household.objects.filter(pk=pk).values(*HOUSEHOLD_FIELDS), prepare=True)

# Backward from a batch (parameters: its packing run, the batch).
batch_inputs = Compiled(lambda run: PackingInput.objects.filter(run_id=run).order_by("lot__code")
                        .values("quantity_kg", *(f"lot__{f}" for f in LOT_FIELDS)))
batch_lines = Compiled(lambda run, batch: _lines(PackingInput.objects.filter(run_id=run).values("lot_id"), batch))
batch_inspections = Compiled(lambda batch: _inspections(batch))
batch_stock = Compiled(lambda batch: _stock(batch))

# Forward from a lot (parameter: the lot).
lot_inputs = Compiled(lambda lot: PackingInput.objects.filter(lot_id=lot, run__batch__isnull=False)
                      .order_by("run__batch__packed_at", "pk").values("lot_id", "quantity_kg", *(f"run__batch__{f}" for f in BATCH_FIELDS)))
lot_lines = Compiled(lambda lot: _lines(lot, _batches_of_lots(Q(lot_id=lot))))
lot_inspections = Compiled(lambda lot: _inspections(_batches_of_lots(Q(lot_id=lot))))
lot_stock = Compiled(lambda lot: _stock(_batches_of_lots(Q(lot_id=lot))))

# Forward from a household (parameter: the household).
household_lots = Compiled(lambda hh: Lot.objects.filter(household_id=hh).order_by("created_at", "pk").values(*LOT_FIELDS))
household_inputs = Compiled(lambda hh: PackingInput.objects.filter(lot__household_id=hh, run__batch__isnull=False)
                            .order_by("run__batch__packed_at", "pk")
                            .values("lot_id", "quantity_kg", *(f"run__batch__{f}" for f in BATCH_FIELDS)))
household_lines = Compiled(lambda hh: _lines(Lot.objects.filter(household_id=hh).values("id"), _batches_of_lots(Q(lot__household_id=hh))))
household_inspections = Compiled(lambda hh: _inspections(_batches_of_lots(Q(lot__household_id=hh))))
household_stock = Compiled(lambda hh: _stock(_batches_of_lots(Q(lot__household_id=hh))))


class Names:
    """Facilities, grades, SKUs and villages by id: ``facilities[id]`` is the dict a trace shows;
    ``grades[id]`` (code, name, produce code, produce name); ``skus[id]`` (code, name, produce
    code, grade code or ""); ``villages[id]`` (name, township name)."""

    def __init__(self) -> None:
        self.facilities: dict[int, dict] = {}
        self.grades: dict[int, tuple] = {}
        self.skus: dict[int, tuple] = {}
        self.villages: dict[int, tuple] = {}

    def location(self, facility_id: int) -> str:
        f = self.facilities[facility_id]
        return f"{f['name']} ({f['code']})"


def _col(model, name: str) -> str:
    return model._meta.get_field(name).column


def names_of(*, facilities=(), grades=(), skus=(), villages=(), using: str = DEFAULT_DB_ALIAS) -> Names:
    """The names of these facilities, grades, SKUs and villages, in one statement (text columns
    only, so the rows need no converters)."""
    names = Names()
    connection = connections[using]
    t = connection.ops.quote_name
    parts, params = [], []
    on_pg = connection.vendor == "postgresql"
    for ids, select in (
        (facilities, lambda marks: (
            f"SELECT 'f', f.id, f.{t(_col(Facility, 'code'))}, f.{t(_col(Facility, 'name'))}, f.{t(_col(Facility, 'kind'))}, '', '' "
            f"FROM {t(Facility._meta.db_table)} f WHERE f.id IN ({marks})")),
        (grades, lambda marks: (
            f"SELECT 'g', g.id, g.{t(_col(Grade, 'code'))}, g.{t(_col(Grade, 'name'))}, p.{t(_col(Produce, 'code'))}, "
            f"p.{t(_col(Produce, 'name'))}, '' FROM {t(Grade._meta.db_table)} g "
            f"JOIN {t(Produce._meta.db_table)} p ON p.id = g.{t(_col(Grade, 'produce'))} WHERE g.id IN ({marks})")),
        (skus, lambda marks: (
            f"SELECT 's', s.id, s.{t(_col(Sku, 'code'))}, s.{t(_col(Sku, 'name'))}, p.{t(_col(Produce, 'code'))}, "
            f"COALESCE(g.{t(_col(Grade, 'code'))}, ''), '' FROM {t(Sku._meta.db_table)} s "
            f"JOIN {t(Produce._meta.db_table)} p ON p.id = s.{t(_col(Sku, 'produce'))} "
            f"LEFT JOIN {t(Grade._meta.db_table)} g ON g.id = s.{t(_col(Sku, 'grade'))} WHERE s.id IN ({marks})")),
        (villages, lambda marks: (
            f"SELECT 'v', v.id, v.{t(_col(Village, 'name'))}, w.{t(_col(Township, 'name'))}, '', '', '' "
            f"FROM {t(Village._meta.db_table)} v JOIN {t(Township._meta.db_table)} w ON w.id = v.{t(_col(Village, 'township'))} "
            f"WHERE v.id IN ({marks})")),
    ):
        ids = sorted({i for i in ids if i is not None})
        if on_pg:
            # one text whatever the ids (an array each, empty or not): prepared once per connection
            parts.append(select("SELECT unnest(%s::bigint[])"))
            params.append(ids)
        elif ids:
            parts.append(select(", ".join(["%s"] * len(ids))))
            params.extend(ids)
    if not parts or not any(params):
        return names
    rows = fetch(" UNION ALL ".join(parts), params, using, prepare=on_pg)
    for tag, pk, c0, c1, c2, c3, _c4 in rows:
        if tag == "f":
            names.facilities[pk] = {"code": c0, "name": c1, "kind": c2}
        elif tag == "g":
            names.grades[pk] = (c0, c1, c2, c3)
        elif tag == "s":
            names.skus[pk] = (c0, c1, c2, c3)
        else:
            names.villages[pk] = (c0, c1)
    return names


def names_for(*, lots=(), batches=(), lines=(), stock=()) -> Names:
    """The names the rows of one trace mention."""
    return names_of(
        facilities=[lot["origin_id"] for lot in lots] + [b["station_id"] for b in batches]
        + [line["shipment__origin_id"] for line in lines] + [line["shipment__destination_id"] for line in lines]
        + [s["facility_id"] for s in stock],
        grades=[lot["grade_id"] for lot in lots],
        skus=[b["sku_id"] for b in batches],
        villages=[lot["household__village_id"] for lot in lots],
    )


# --- one page of a trace, in SQL --------------------------------------------------------------
#
# A paged trace (the API, the staff page) reads its summary with aggregates and only the rows of
# the page asked for: its events sorted and cut in SQL (ORDER BY … LIMIT … OFFSET), and the same
# slice of each list (lots, batches, shipments, stock). A household's season (hundreds of lots and
# batches, some 700 events) costs the same few statements and about a page of rows.
#
# Each statement is written once for the three kinds of subject, over these sets:
#   lots      Q on Lot: the lots traced (a batch's: the lots its packing run took in)
#   lot_lines Q on ShipmentLine: the shipment lines of those lots
#   inputs    Q on PackingInput: the packing inputs traced
#   batches   the batches traced (a Q on PackedBatch, or through a relation to it)
#   by_code   a batch's lots go in lot-code order; a lot's or a household's by date and id


class _InSet(Func):
    """``column IN (subquery)``; on PostgreSQL ``column = ANY(ARRAY(subquery))``: the set is read once
    and each id looked up in the column's index. With ``IN`` PostgreSQL merge-joined the few
    batches of a trace against every batch's shipment lines (the whole batch_id index, each time)."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, column: str, subquery: QuerySet) -> None:
        super().__init__(F(column), Subquery(subquery))

    def as_sql(self, compiler, connection, **extra):
        column, column_params = compiler.compile(self.source_expressions[0])
        subquery, subquery_params = compiler.compile(self.source_expressions[1])
        if connection.vendor == "postgresql":
            return f"{column} = ANY(ARRAY{subquery})", (*column_params, *subquery_params)
        return f"{column} IN {subquery}", (*column_params, *subquery_params)


class _InCte(Func):
    """``column IN`` the ids of a set the statement's WITH clause computed once (:func:`_household_sets`);
    on PostgreSQL ``column = ANY(ARRAY(…))``, as :class:`_InSet` and for the same reason."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, column: str, cte: str) -> None:
        super().__init__(F(column))
        self.cte = cte

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        ids = f"SELECT id FROM {connection.ops.quote_name(self.cte)}"
        if connection.vendor == "postgresql":
            return f"{column} = ANY(ARRAY({ids}))", params
        return f"{column} IN ({ids})", params


# The sets of a household's trace, computed once per statement (the WITH clause of :func:`_household_sets`)
# rather than in each of the twenty-odd branches of its events and summary.
_HH_LOTS, _HH_BATCHES = "trace_hh_lots", "trace_hh_batches"


def _household_sets(connection, hh) -> tuple[str, list]:
    """The WITH clause of a household's statements: its lots' ids, and its batches' (those packed by the
    packing runs its lots went into; PackedBatch.packing_run is unique), each read once."""
    t = connection.ops.quote_name
    runs = (f"SELECT i.{t(_col(PackingInput, 'run'))} FROM {t(PackingInput._meta.db_table)} i "
            f"JOIN {t(_HH_LOTS)} l ON l.id = i.{t(_col(PackingInput, 'lot'))}")
    # MATERIALIZED (PostgreSQL): read once, however many branches name the set. The batches by a join from the
    # lots (a nested loop on two indexes), which took less time than id = ANY(ARRAY(the runs)).
    materialized = "MATERIALIZED " if connection.vendor == "postgresql" else ""
    return (f"WITH {t(_HH_LOTS)} AS {materialized}(SELECT id FROM {t(Lot._meta.db_table)} WHERE {t(_col(Lot, 'household'))} = %s), "
            f"{t(_HH_BATCHES)} AS {materialized}(SELECT id FROM {t(PackedBatch._meta.db_table)} "
            f"WHERE {t(_col(PackedBatch, 'packing_run'))} IN ({runs}))", [hh])


class _Sets:
    def __init__(self, *, lots: Q, lot_lines: Q, inputs: Q, batches: Q, by_code: bool, lot_lines_listed: bool) -> None:
        self.lots, self.lot_lines, self.inputs, self.by_code, self.lot_lines_listed = lots, lot_lines, inputs, by_code, lot_lines_listed
        self._batches = batches  # a Q on PackedBatch

    def batches(self, prefix: str = "") -> Q:
        """The batches traced, as a condition on PackedBatch, or on a model whose ``prefix`` leads to
        it ("batch__": a shipment line's, an inspection's, a stock row's batch_id)."""
        if not prefix:
            return self._batches
        first = self._batches.children[0]
        if isinstance(first, _InCte):  # a household's: the set its statement's WITH clause computed
            return Q(_InCte(f"{prefix.removesuffix('__')}_id", first.cte))
        if first[0] == "pk":  # one batch: its id
            return Q(**{f"{prefix}id": first[1]})
        return _InSet(f"{prefix.removesuffix('__')}_id", PackedBatch.objects.filter(self._batches).order_by().values("id"))


def _sets(kind: str, *p, with_clause: bool = False) -> _Sets:
    """``with_clause``: a household's sets as the statement's WITH clause (:func:`_household_sets`) computed them — for
    the events and the summary, whose twenty-odd branches each re-derived them; a statement that names the set once
    (a page of batches, shipments or stock) derives it by a join from the household, which costs less than the clause."""
    # A lot's or a household's batches by their packing runs (PackedBatch.packing_run is unique): a join
    # from the few runs, where ``id IN (batches of runs IN …)`` had PostgreSQL test every batch against the set.
    if kind == "batch":
        run, batch = p
        return _Sets(lots=Q(packing_inputs__run_id=run), lot_lines=Q(lot_id__in=PackingInput.objects.filter(run_id=run).values("lot_id")),
                     inputs=Q(run_id=run), batches=Q(pk=batch), by_code=True, lot_lines_listed=False)
    if kind == "lot":
        (lot,) = p
        runs = PackingInput.objects.filter(lot_id=lot).values("run_id")
        return _Sets(lots=Q(pk=lot), lot_lines=Q(lot_id=lot), inputs=Q(lot_id=lot, run__batch__isnull=False), batches=Q(packing_run__in=runs),
                     by_code=False, lot_lines_listed=True)
    (hh,) = p
    if not with_clause:
        runs = PackingInput.objects.filter(lot__household_id=hh).values("run_id")
        # its lots' lines by the join a line's lot code needs anyway (``lot_id IN (its lots)`` read each lot twice)
        return _Sets(lots=Q(household_id=hh), lot_lines=Q(lot__household_id=hh),
                     inputs=Q(lot__household_id=hh, run__batch__isnull=False), batches=Q(packing_run__in=runs), by_code=False,
                     lot_lines_listed=True)
    return _Sets(lots=Q(household_id=hh), lot_lines=Q(_InCte("lot_id", _HH_LOTS)),
                 inputs=Q(_InCte("lot_id", _HH_LOTS), run__batch__isnull=False), batches=Q(_InCte("id", _HH_BATCHES)),
                 by_code=False, lot_lines_listed=True)


def _null(output_field):
    """A NULL of a type, so that PostgreSQL resolves each column of a UNION whatever the branches."""
    return Cast(Value(None), output_field=output_field)


_TOTAL = DecimalField(max_digits=20, decimal_places=3)

# Rows of the summary statement: (tag, then three counts and totals: s_n, s_total, s_n2, s_total2,
# s_n3, s_total3); a tag names what was counted. One row a table: a line's shipping, receiving and
# loss are counted in the same pass.
S_LOTS, S_LOT_LINES, S_INPUTS, S_BATCHES, S_INSPECTIONS, S_BATCH_LINES, S_SHIPMENTS, S_STOCK = range(8)
S_BATCH_ID = 8  # one row per batch traced, its id as s_n: the forward extensions' batch ids
SUMMARY_COLUMNS = ("s_n", "s_total", "s_n2", "s_total2", "s_n3", "s_total3")


def _agg(qs: QuerySet, tag: int, n, total=None, n2=None, total2=None, n3=None, total3=None) -> QuerySet:
    zero, none = Value(0, output_field=IntegerField()), Value(0, output_field=_TOTAL)
    return qs.order_by().annotate(s_tag=Value(tag, output_field=IntegerField())).values("s_tag").annotate(
        s_n=n, s_total=Cast(total, output_field=_TOTAL) if total is not None else none, s_n2=n2 if n2 is not None else zero,
        s_total2=Cast(total2, output_field=_TOTAL) if total2 is not None else none, s_n3=n3 if n3 is not None else zero,
        s_total3=Cast(total3, output_field=_TOTAL) if total3 is not None else none)


def _stock_count(kind: str, *p) -> QuerySet:
    """The summary's one figure the events do not carry: how many stock rows the traced batches have."""
    s = _sets(kind, *p, with_clause=True)
    return _agg(BatchStock.objects.filter(s.batches("batch__")), S_STOCK, Count("pk"))


# The events, one UNION ALL branch per kind of event, every branch the same columns:
#   e_sec, e_rank, e_g, e_kdt, e_ktext, e_kint   the order (the second, the kind, then as the full trace adds them)
#   e_code, e_grade, e_sku                      the traceability lot code and what names the product
#   e_qty, e_at, e_doc, e_loc, e_src, e_dst     quantity, date, reference document, where, from, to
#   e_hh, e_dest_code, e_a, e_b, e_note, e_flag  what one kind or another adds (household, batch, loss…)
# e_rank is the kind's place in alphabetical order, as the full trace sorts kinds by their code.
EVENT_KINDS = ("inspection", "intake", "receiving", "shipping", "transformation_input", "transformation_output")
_RANK = {kind: i for i, kind in enumerate(EVENT_KINDS)}
G_INTAKE, G_LOT_LINE, G_INPUT, G_OUTPUT, G_INSPECTION, G_BATCH_LINE = range(6)
# A kind of event's summary row is tagged with its G_ number (_summary_of_events groups by it).
assert (S_LOTS, S_LOT_LINES, S_INPUTS, S_BATCHES, S_INSPECTIONS, S_BATCH_LINES) == (
    G_INTAKE, G_LOT_LINE, G_INPUT, G_OUTPUT, G_INSPECTION, G_BATCH_LINE)
_EVENT_COLUMNS = ("e_sec", "e_rank", "e_g", "e_kdt", "e_ktext", "e_kint", "e_code", "e_grade", "e_sku", "e_qty", "e_at", "e_doc",
                  "e_loc", "e_src", "e_dst", "e_hh", "e_dest_code", "e_a", "e_b", "e_note", "e_flag")


def _branch(qs: QuerySet, kind: str, g: int, **columns) -> QuerySet:
    integer, text, when, qty = IntegerField(), CharField(), DateTimeField(), _TOTAL
    nulls = {"e_kdt": when, "e_ktext": text, "e_kint": integer, "e_grade": integer, "e_sku": integer, "e_doc": text, "e_loc": integer,
             "e_src": integer, "e_dst": integer, "e_hh": text, "e_dest_code": text, "e_a": qty, "e_b": qty, "e_note": text,
             "e_flag": BooleanField()}
    at = columns["e_at"]
    values = {"e_sec": TruncSecond(at), "e_rank": Value(_RANK[kind], output_field=integer), "e_g": Value(g, output_field=integer)}
    for name in _EVENT_COLUMNS[3:]:
        if name in values:
            continue
        value = columns.get(name)
        if value is None:
            value = _null(nulls[name])
        elif name == "e_qty":
            value = Cast(value, output_field=qty)
        values[name] = value
    return qs.order_by().values(**values)


def _events(kind: str, *p) -> QuerySet:
    s = _sets(kind, *p, with_clause=True)
    line = {"e_doc": F("shipment__code"), "e_src": F("shipment__origin_id"), "e_dst": F("shipment__destination_id")}
    lot_lines = ShipmentLine.objects.filter(s.lot_lines)
    batch_lines = ShipmentLine.objects.filter(s.batches("batch__"))
    lot_key = {"e_ktext": F("code")} if s.by_code else {"e_kdt": F("created_at"), "e_kint": F("pk")}
    input_key = {"e_ktext": F("lot__code")} if s.by_code else {"e_kdt": F("run__batch__packed_at"), "e_kint": F("pk")}
    parts = [
        _branch(Lot.objects.filter(s.lots), "intake", G_INTAKE, **lot_key, e_code=F("code"), e_grade=F("grade_id"),
                e_qty=F("weight_kg"), e_at=Coalesce("intake__created_at", "created_at"), e_loc=F("origin_id"), e_hh=F("household__number")),
        _branch(lot_lines, "shipping", G_LOT_LINE, e_kint=F("pk"), e_code=F("lot__code"), e_grade=F("lot__grade_id"),
                e_qty=F("dispatched"), e_at=F("shipment__dispatched_at"), **line),
        _branch(lot_lines.filter(received__isnull=False), "receiving", G_LOT_LINE, e_kint=F("pk"), e_code=F("lot__code"),
                e_grade=F("lot__grade_id"), e_qty=F("received"), e_at=F("shipment__received_at"), e_a=F("dispatched"),
                e_note=F("loss_reason"), **line),
        _branch(PackingInput.objects.filter(s.inputs), "transformation_input", G_INPUT, **input_key, e_code=F("lot__code"),
                e_grade=F("lot__grade_id"), e_qty=F("quantity_kg"), e_at=F("run__batch__packed_at"), e_doc=F("run__code"),
                e_loc=F("run__batch__station_id"), e_dest_code=F("run__batch__code")),
        _branch(PackedBatch.objects.filter(s.batches()), "transformation_output", G_OUTPUT, e_kdt=F("packed_at"),
                e_kint=F("pk"), e_code=F("code"), e_sku=F("sku_id"), e_qty=F("units"), e_at=F("packed_at"),
                e_doc=F("packing_run__code"), e_loc=F("station_id"), e_a=F("unit_weight_kg"), e_b=F("packing_run__waste_kg")),
        _branch(QualityInspection.objects.filter(s.batches("batch__")), "inspection", G_INSPECTION,
                e_kdt=F("inspected_at"), e_kint=F("pk"), e_code=F("batch__code"), e_sku=F("batch__sku_id"), e_qty=F("batch__units"),
                e_at=F("inspected_at"), e_loc=F("batch__station_id"), e_note=F("notes"), e_flag=F("passed")),
        _branch(batch_lines, "shipping", G_BATCH_LINE, e_kint=F("pk"), e_code=F("batch__code"), e_sku=F("batch__sku_id"),
                e_qty=F("dispatched"), e_at=F("shipment__dispatched_at"), **line),
        _branch(batch_lines.filter(received__isnull=False), "receiving", G_BATCH_LINE, e_kint=F("pk"), e_code=F("batch__code"),
                e_sku=F("batch__sku_id"), e_qty=F("received"), e_at=F("shipment__received_at"), e_a=F("dispatched"),
                e_note=F("loss_reason"), **line),
    ]
    return parts[0].union(*parts[1:], all=True).order_by(*_EVENT_COLUMNS[:6])


def _events_unordered(kind: str, *p) -> QuerySet:
    return _events(kind, *p).order_by()


def _summary_of_events(q, lot_lines_listed: bool) -> str:
    """SQL of the summary's rows (columns s_tag, s_n, s_total, s_n2, s_total2, s_n3, s_total3, as
    :func:`_agg` names them) counted from the events the statement computed (``trace_ev``): every
    figure but the stock rows' is a count or a sum over one kind of event. Reading the books a second
    time for them took as long as reading the events."""
    ev, zero = q("trace_ev"), "CAST(0 AS NUMERIC(20, 3))"
    e = {name: q(name) for name in _EVENT_COLUMNS}
    ship, recv = _RANK["shipping"], _RANK["receiving"]
    short = f"{e['e_rank']} = {recv} AND {e['e_qty']} < {e['e_a']}"

    def row(tag, where, n, total=zero, n2="0", total2=zero, n3="0", total3=zero, group=True):
        return (f"SELECT {tag} AS {q('s_tag')}, {n} AS {q('s_n')}, {total} AS {q('s_total')}, {n2} AS {q('s_n2')}, "
                f"{total2} AS {q('s_total2')}, {n3} AS {q('s_n3')}, {total3} AS {q('s_total3')} FROM {ev} WHERE {where}"
                + (f" GROUP BY {e['e_g']}" if group else ""))

    # Every kind of event in one pass, grouped by kind (each S_ tag of a kind is its G_ number): its
    # events and their quantity; for a shipment line's kinds, shipped (every line), received (the lines
    # signed for) and lost (received short), each a count and a quantity. Only the lines have receiving
    # events, and only the intakes a household number.
    recv_ = f"{e['e_rank']} = {recv}"
    grouped = (
        f"SELECT {e['e_g']} AS {q('s_tag')}, SUM(CASE WHEN {recv_} THEN 0 ELSE 1 END) AS {q('s_n')}, "
        f"SUM(CASE WHEN {recv_} THEN NULL ELSE {e['e_qty']} END) AS {q('s_total')}, "
        f"COUNT(DISTINCT {e['e_hh']}) + SUM(CASE WHEN {recv_} THEN 1 ELSE 0 END) AS {q('s_n2')}, "
        f"SUM(CASE WHEN {recv_} THEN {e['e_qty']} END) AS {q('s_total2')}, "
        f"SUM(CASE WHEN {short} THEN 1 ELSE 0 END) AS {q('s_n3')}, "
        f"SUM(CASE WHEN {short} THEN {e['e_a']} - {e['e_qty']} END) AS {q('s_total3')} FROM {ev} GROUP BY {e['e_g']}"
    )

    # the shipments of the lines a trace lists (_Sets.lot_lines_listed: a batch's trace lists its batches' only), each once
    listed = f"({G_BATCH_LINE}, {G_LOT_LINE})" if lot_lines_listed else f"({G_BATCH_LINE})"
    parts = [
        grouped,
        row(S_SHIPMENTS, f"{e['e_rank']} = {ship} AND {e['e_g']} IN {listed}", f"COUNT(DISTINCT {e['e_doc']})", group=False),
        # one row per batch traced, its id as s_n (every batch traced has its packing event, whose e_kint is its id)
        (f"SELECT {S_BATCH_ID}, {e['e_kint']}, {zero}, 0, {zero}, 0, {zero} FROM {ev} WHERE {e['e_g']} = {G_OUTPUT}"),
    ]
    return " UNION ALL ".join(parts)


def _shipments_page(kind: str, *p) -> QuerySet:
    """The shipment lines a trace lists: a lot's or a household's own (their lots') and then its
    batches', each in id order; a batch's trace lists the batch's only."""
    s = _sets(kind, *p)
    of_batches = (ShipmentLine.objects.filter(s.batches("batch__")).order_by()
                  .values(*LINE_FIELDS, l_code=F("batch__code"), l_g=Value(1, output_field=IntegerField())))
    if not s.lot_lines_listed:
        return of_batches.order_by("id")
    of_lots = (ShipmentLine.objects.filter(s.lot_lines).order_by()
               .values(*LINE_FIELDS, l_code=F("lot__code"), l_g=Value(0, output_field=IntegerField())))
    return of_lots.union(of_batches, all=True).order_by("l_g", "id")



def _batches_page(kind: str, *p) -> QuerySet:
    """The batches a lot or a household went into, in the full trace's order (packing date, then
    id), with their latest inspection's date."""
    s = _sets(kind, *p)
    return PackedBatch.objects.filter(s.batches()).values(*BATCH_FIELDS, b_inspected_at=_latest_inspection()).order_by("packed_at", "id")


def _stock_page(kind: str, *p) -> QuerySet:
    s = _sets(kind, *p)
    return BatchStock.objects.filter(s.batches("batch__")).order_by("batch_id", "facility_id").values(*STOCK_FIELDS, s_code=F("batch__code"))


def _compiled(build, *, with_clause: bool = False, **kwargs) -> dict[str, Compiled]:
    return {kind: Compiled(functools.partial(build, kind), with_=_household_sets if with_clause and kind == "household" else None,
                           **kwargs)
            for kind in ("batch", "lot", "household")}


class _EventsAndSummary:
    """A page of events and the summary in one statement. The events are computed once (``trace_ev``,
    materialized on PostgreSQL); the page is sorted and cut from them, and the summary counted from
    them (:func:`_summary_of_events`) with the stock rows' count beside. The summary's rows (tag,
    counts, totals) go in the events' columns e_rank, e_kint, e_qty… with e_g = SUMMARY_ROW to tell
    them apart. ``statement(*params, offset=, limit=)`` returns (the page's events, the summary's rows)."""

    def __init__(self, kind: str, events: Compiled, stock: Compiled) -> None:
        self.kind, self.events, self.stock = kind, events, stock
        self.local = threading.local()

    def _compile(self, using: str, arity: int) -> tuple:
        connection = connections[using]
        q = connection.ops.quote_name
        # the WITH clause of the household's sets (the same for both) once, before them both
        w_sql, w_params, w_slots = self.events.with_clause(using, arity)
        e_sql, e_params, e_slots, compiler, converters, names = self.events._compile(using, arity, with_clause=False)
        st_sql, st_params, st_slots, *_rest = self.stock._compile(using, arity, with_clause=False)
        materialized = "MATERIALIZED " if connection.vendor == "postgresql" else ""
        with_sql = f"{w_sql}, " if w_sql else "WITH "
        with_sql += f"{q('trace_ev')} AS {materialized}({e_sql})"
        order = ", ".join(str(i + 1) for i in range(6))
        summary_sql = _summary_of_events(q, _sets(self.kind, *self.events.marks[:arity]).lot_lines_listed)
        columns = ["NULL"] * len(names)
        columns[names.index("e_rank")], columns[names.index("e_g")] = f"s.{q('s_tag')}", str(SUMMARY_ROW)
        for name, column in _SUMMARY_IN.items():
            columns[names.index(name)] = f"s.{q(column)}"
        sql = (f"{with_sql} SELECT * FROM (SELECT {', '.join(q(n) for n in names)} FROM {q('trace_ev')} ORDER BY {order} "
               f"LIMIT %s OFFSET %s) p UNION ALL SELECT {', '.join(columns)} FROM ({summary_sql} UNION ALL "
               f"{st_sql}) s ORDER BY {order}")
        return sql, (*w_params, *e_params), [*w_slots, *e_slots], st_params, st_slots, compiler, converters, names

    def __call__(self, *args, offset: int, limit: int, using: str = DEFAULT_DB_ALIAS) -> tuple[list[dict], list[dict]]:
        compiled = compiled_once(self.local, using, lambda: self._compile(using, len(args)))
        sql, e_params, e_slots, s_params, s_slots, compiler, converters, names = compiled
        params = [*filled(e_params, e_slots, args), int(limit), int(offset), *filled(s_params, s_slots, args)]
        rows = fetch(sql, params, using, prepare=True)
        if converters:
            rows = compiler.apply_converters(rows, converters)
        page, summary = [], []
        g, rank = names.index("e_g"), names.index("e_rank")
        where = [(column, names.index(name)) for name, column in _SUMMARY_IN.items()]
        for row in rows:
            if row[g] == SUMMARY_ROW:
                summary.append({"s_tag": row[rank], **{column: row[i] for column, i in where}})
            else:
                page.append(dict(zip(names, row, strict=True)))
        return page, summary


SUMMARY_ROW = -1
# Which column of the events carries which of the summary's (counts in integer columns, totals in decimal ones).
_SUMMARY_IN = {"e_kint": "s_n", "e_qty": "s_total", "e_grade": "s_n2", "e_a": "s_total2", "e_sku": "s_n3", "e_b": "s_total3"}

# Per kind of subject; parameters: a batch's (packing run, batch), a lot's (lot), a household's (household).
page_events_and_summary = {
    kind: _EventsAndSummary(kind, events, stock)
    for (kind, events), stock in zip(_compiled(_events_unordered, with_clause=True).items(),
                                     _compiled(_stock_count, with_clause=True).values(), strict=True)
}
page_shipments = _compiled(_shipments_page, paged=True)
page_batches = _compiled(_batches_page, paged=True)
page_stock = _compiled(_stock_page, paged=True)
# The lots, a page of them: a batch's with what the batch used of each (in lot-code order), a household's by date.
batch_inputs_page = Compiled(lambda run: PackingInput.objects.filter(run_id=run).order_by("lot__code")
                             .values("quantity_kg", *(f"lot__{f}" for f in LOT_FIELDS)), paged=True)
household_lots_page = Compiled(lambda hh: Lot.objects.filter(household_id=hh).order_by("created_at", "pk").values(*LOT_FIELDS), paged=True)
