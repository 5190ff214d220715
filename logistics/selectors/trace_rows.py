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

import threading
from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import IntegerField, Q, QuerySet, Value

from households.models import Household, Township, Village

from ..models import BatchStock, Facility, Grade, Lot, PackedBatch, PackingInput, Produce, QualityInspection, ShipmentLine, Sku

# Stand-ins for the parameters while a statement is compiled; found again in the compiled
# parameters by value, so they must be values no real parameter takes.
_MARKS = (-7_310_000_001, -7_310_000_002)


class Compiled:
    """A ``.values()`` queryset compiled to SQL once (per thread and database alias) and run many
    times with new parameters: ``build(*marks)`` returns the queryset with a stand-in for each
    parameter; ``statement(*params)`` returns its rows as dicts, as ``.values()`` would."""

    def __init__(self, build: Callable[..., QuerySet], marks: tuple = _MARKS) -> None:
        self.build = build
        self.marks = marks
        self.local = threading.local()

    def _compile(self, alias: str, arity: int):
        marks = self.marks
        query = self.build(*marks[:arity]).query
        compiler = query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots = [marks.index(p) if type(p) in (int, str) and p in marks else None for p in params]
        fields = [s[0] for s in compiler.select[0:compiler.col_count]]
        names = list(query.selected) if query.selected else [*query.extra_select, *query.values_select, *query.annotation_select]
        return sql, params, slots, compiler, compiler.get_converters(fields), names

    def __call__(self, *args, using: str = DEFAULT_DB_ALIAS) -> list[dict]:
        cache = getattr(self.local, "compiled", None)
        if cache is None:
            cache = self.local.compiled = {}
        compiled = cache.get(using)
        if compiled is None:
            compiled = cache[using] = self._compile(using, len(args))
        sql, template, slots, compiler, converters, names = compiled
        params = [p if slot is None else args[slot] for p, slot in zip(template, slots, strict=True)]
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if converters:
            rows = compiler.apply_converters(rows, converters)
        return [dict(zip(names, row, strict=True)) for row in rows]


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


def _where(name: str, ids: QuerySet | int) -> Q:
    return Q(**{name: ids}) if isinstance(ids, int) else Q(**{f"{name}__in": ids})


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


def _kind_of_code(code) -> QuerySet:
    parts = [
        model.objects.filter(**{field_name: code}).order_by().annotate(trace_kind=Value(k, output_field=IntegerField()))
        .values("trace_kind", "id")
        for k, (model, field_name) in enumerate(((PackedBatch, "code"), (Lot, "code"), (Household, "number")))
    ]
    return parts[0].union(*parts[1:], all=True)


# Which of batch (0), lot (1) or household (2) the code is, in the whole books (the county office's scope).
kind_of_code = Compiled(_kind_of_code, marks=("\x1ftrace code\x1f",))

# The subject's own row, by id.
batch_row = Compiled(lambda pk: PackedBatch.objects.filter(pk=pk).values(*BATCH_FIELDS))
lot_row = Compiled(lambda pk: Lot.objects.filter(pk=pk).values(*LOT_FIELDS))
household_row = Compiled(lambda pk: Household.objects.filter(pk=pk).values(*HOUSEHOLD_FIELDS))

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
        if ids:
            parts.append(select(", ".join(["%s"] * len(ids))))
            params.extend(ids)
    if not parts:
        return names
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        rows = cursor.fetchall()
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
