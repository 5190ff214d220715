"""Retail units of packed batches at a facility: reserve, release, sell, return, lose, write off.

Each function checks before it writes, so it joins the caller's transaction without a savepoint
of its own (a savepoint pair per batch line was a fifth of a checkout's statements); a refusal
leaves the caller's transaction usable. Callers (marketplace checkout) lock the BatchStock rows first with ``batch_stock_lock`` — in
primary-key order, inside their transaction — then call these with the locked rows. Each call
changes the counters and appends the matching BatchMovement, so the two always reconcile.

What may be sold, and in which order (FEFO), is decided in ``selectors/stock.py``; this module
locks and writes. Units past their best-before date leave the books through
``batch_write_off_expired`` (movement kind ``expired``), which ``reconcile`` counts as recorded loss.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from core import roles
from core.errors import ConflictError
from core.sql_insert import insert_values
from core.sql_prepared import prepared_cursor

from ..errors import BatchStateConflict, NotAtYourFacility
from ..models import BatchMovement, BatchStock, Facility, MovementKind, PackedBatch
from ..selectors.stock import batch_is_expired, batch_is_sellable, county_today, expired_stock, sellable_stock, sellable_stock_sql
from ..signals import stock_moved
from .access import ensure_acts_at

EXPIRY_REFERENCE = "expiry"
STOCKTAKE_REFERENCE = "stocktake"


class InsufficientStock(ConflictError):
    code = "insufficient_stock"


class StockShortfall(InsufficientStock):
    """Some SKUs cannot be filled; ``available`` is {sku id: units there are} for each of them,
    so that a caller can name its own products in the message."""

    def __init__(self, message: str, *, available: dict[int, int], **kwargs):
        self.available = available
        super().__init__(message, **kwargs)


Takes = dict[int, list[tuple[BatchStock, int]]]  # {sku id: [(locked stock row, units taken from it)]}, FEFO


def sellable_stock_queryset(*, facility_id: int, sku_ids: Iterable[int] | None = None):
    """Stock rows at ``facility_id`` that may be sold now, earliest-expiring first (FEFO); the
    rule itself is ``selectors.stock.sellable_stock``."""
    return sellable_stock(facility_id=facility_id, sku_ids=sku_ids)


def batch_stock_lock(*, facility_id: int | None, sku_ids: Iterable[int]) -> list[BatchStock]:
    """Lock every sellable stock row of these SKUs at ``facility_id`` (None: the supermarket), in primary-key order (no deadlocks between
    carts that hold the same SKUs in another order), and return them in FEFO order. The rule is
    checked again on the locked rows: a batch held or gone past its date between the read and
    the lock is left out."""
    today = county_today()
    # one statement: PostgreSQL locks the rows as the sort hands them out (primary-key order) and
    # re-reads each row it had to wait for, re-checking ``quantity > reserved`` on the new version
    if transaction.get_connection().vendor == "postgresql":
        rows = _sellable_rows_locked_pg(facility_id=facility_id, sku_ids=list(sku_ids), on=today)
    else:
        rows = list(
            sellable_stock(facility_id=facility_id, sku_ids=sku_ids, on=today).select_for_update(of=("self",))
            .select_related("batch").order_by("pk")
        )
    rows.sort(key=lambda s: (s.batch.best_before, s.batch.packed_at, s.batch_id))  # FEFO, as the selector orders
    return [s for s in rows if batch_is_sellable(s.batch, on=today) and s.quantity > s.reserved]


def _sellable_rows_locked_pg(*, facility_id: int | None, sku_ids: list[int], on) -> list[BatchStock]:
    """``sellable_stock(...).select_for_update(of=self).select_related("batch").order_by("pk")`` as one
    plain statement: checkout runs it for every order, and the ORM spent longer building it than
    PostgreSQL running it. It narrows by ``batch_sellable_q``'s rule (inspected, not held, not past
    ``on``; tests/logistics/test_stock_lock.py holds the two to the same rows), and
    ``batch_stock_lock`` checks every locked row with ``batch_is_sellable`` all the same."""
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    stock_fields, batch_fields = BatchStock._meta.concrete_fields, PackedBatch._meta.concrete_fields
    columns = [f"s.{quote(f.column)}" for f in stock_fields] + [f"b.{quote(f.column)}" for f in batch_fields]
    sellable, params = sellable_stock_sql(on=on, facility_id=facility_id)
    sql = f"SELECT {', '.join(columns)} {sellable} AND b.sku_id = ANY(%s) ORDER BY s.id FOR UPDATE OF s"
    with prepared_cursor(connection.alias) as cursor:
        cursor.execute(sql, [*params, sku_ids])
        found = cursor.fetchall()
    stock_names, batch_names = [f.attname for f in stock_fields], [f.attname for f in batch_fields]
    stock_converters = _converters(stock_fields, connection)
    batch_converters = _converters(batch_fields, connection)
    rows = []
    for values in found:
        row = BatchStock.from_db(connection.alias, stock_names, _convert(values[: len(stock_names)], stock_converters))
        row.batch = PackedBatch.from_db(connection.alias, batch_names, _convert(values[len(stock_names):], batch_converters))
        rows.append(row)
    return rows


def _converters(fields, connection) -> list:
    """What the ORM applies to a column's value as it reads it (``from_db_value``), per field."""
    return [(lambda v, f=f: f.from_db_value(v, None, connection)) if hasattr(f, "from_db_value") else None for f in fields]


def _convert(values, converters) -> list:
    return [convert(v) if convert is not None else v for v, convert in zip(values, converters, strict=True)]


def fefo_plan(rows: Iterable[BatchStock], wants: Mapping[int, int]) -> tuple[Takes, dict[int, int]]:
    """Which rows (locked, in FEFO order, from ``batch_stock_lock``) give the units wanted per
    SKU: (takes, shortfalls), shortfalls being {sku id: units available} for every SKU that
    cannot be filled. Writes nothing."""
    free: dict[int, list[BatchStock]] = {}
    for row in rows:
        free.setdefault(row.batch.sku_id, []).append(row)
    takes: Takes = {}
    short: dict[int, int] = {}
    for sku_id, wanted in wants.items():
        left, mine = wanted, []
        for row in free.get(sku_id, ()):
            if left == 0:
                break
            units = min(row.quantity - row.reserved, left)
            if units > 0:
                mine.append((row, units))
                left -= units
        if left:
            short[sku_id] = wanted - left
        takes[sku_id] = mine
    return takes, short


@dataclass
class PreparedTake:
    """What ``batch_stock_take`` writes, checked and built but not yet written: ``(stock row id,
    units)`` per row and the movements to append. A caller that writes its own rows in the same
    statement (checkout, on PostgreSQL) writes it with ``sql_parts`` and then calls ``written``."""

    units: list[tuple[int, int]]
    sell: bool
    movements: list[BatchMovement]
    facility_ids: set[int]

    def sql_parts(self, connection) -> list[tuple[str, list]]:
        """The UPDATE of the counters and the INSERT of the movements, as two statements that may
        run as parts of one ``WITH`` (PostgreSQL: data-modifying parts)."""
        if not self.units:
            return []
        table = connection.ops.quote_name(BatchStock._meta.db_table)
        column = "quantity = s.quantity - v.units" if self.sell else "reserved = s.reserved + v.units"
        update = (
            f"UPDATE {table} AS s SET {column} FROM (VALUES {', '.join(['(%s, %s)'] * len(self.units))}) AS v(id, units) WHERE s.id = v.id",
            [value for pair in self.units for value in pair],
        )
        return [update, insert_values(self.movements)]

    def written(self) -> None:
        if self.units:
            stock_moved.send(sender=BatchMovement, facility_ids=self.facility_ids)


def batch_stock_take_prepare(
    *, takes: Iterable[tuple[BatchStock, int]], reference_type: str, reference_code: str, sell: bool = False, author=None, at=None,
) -> PreparedTake:
    """Check the planned units against the locked rows and build what ``batch_stock_take`` writes;
    the rows in memory are moved as the write will move them."""
    takes = [(row, units) for row, units in takes if units > 0]
    for row, units in takes:
        if row.quantity - row.reserved < units:
            raise InsufficientStock(
                _("Batch %(batch)s: only %(n)s units available.") % {"batch": row.batch.code, "n": row.quantity - row.reserved}
            )
    now = at or timezone.now()
    movements = []
    for row, units in takes:
        movements.append(BatchMovement(
            batch_id=row.batch_id, facility_id=row.facility_id, kind=MovementKind.RESERVE, quantity_delta=0, reserved_delta=units,
            reference_type=reference_type, reference_code=reference_code, author=author, created_at=now,
        ))
        if sell:
            row.quantity -= units
            movements.append(BatchMovement(
                batch_id=row.batch_id, facility_id=row.facility_id, kind=MovementKind.SELL, quantity_delta=-units,
                reserved_delta=-units, reference_type=reference_type, reference_code=reference_code, author=author, created_at=now,
            ))
        else:
            row.reserved += units
    return PreparedTake(
        units=[(row.pk, units) for row, units in takes], sell=sell, movements=movements, facility_ids={row.facility_id for row, _u in takes}
    )


def batch_stock_take(
    *, takes: Iterable[tuple[BatchStock, int]], reference_type: str, reference_code: str, sell: bool = False, author=None, at=None,
) -> None:
    """Reserve the planned units (and, with ``sell``, sell them at once) set-based: one UPDATE
    of every row and one INSERT of every movement, whatever the number of rows. The rows must
    be locked by the caller (``batch_stock_lock``) and the plan checked (``fefo_plan``); the
    database's non-negative constraints still guard the counters. Movements are the same as
    ``batch_stock_reserve`` + ``batch_stock_sell`` would append, so reconcile sees no difference."""
    prepared = batch_stock_take_prepare(
        takes=takes, reference_type=reference_type, reference_code=reference_code, sell=sell, author=author, at=at
    )
    batch_stock_take_write_orm(prepared)
    prepared.written()


def batch_stock_take_write_orm(prepared: PreparedTake) -> None:
    """Write a prepared take through the ORM: one UPDATE, one INSERT (every database)."""
    if not prepared.units:
        return
    delta = Case(*(When(pk=pk, then=Value(units)) for pk, units in prepared.units), default=Value(0), output_field=IntegerField())
    rows = BatchStock.objects.filter(pk__in=[pk for pk, _u in prepared.units])
    if prepared.sell:  # reserved then sold in one step: on hand goes down, reserved ends where it was
        rows.update(quantity=F("quantity") - delta)
    else:
        rows.update(reserved=F("reserved") + delta)
    BatchMovement.objects.bulk_create(prepared.movements)


def batch_stock_reserve_fefo(
    *, facility_id: int | None, wants: Mapping[int, int], reference_type: str, reference_code: str, sell: bool = False, author=None,
    at=None,
) -> Takes:
    """The whole reservation for a sale (checkout, counter): lock the sellable rows of these
    SKUs, plan earliest best-before first, refuse with ``StockShortfall`` listing every SKU that
    cannot be filled, else take the units set-based. Must run inside the caller's transaction."""
    rows = batch_stock_lock(facility_id=facility_id, sku_ids=set(wants))
    takes, short = fefo_plan(rows, wants)
    if short:
        raise StockShortfall(_("Not enough stock for every item."), available=short)
    batch_stock_take(
        takes=[take for sku_takes in takes.values() for take in sku_takes], reference_type=reference_type,
        reference_code=reference_code, sell=sell, author=author, at=at,
    )
    return takes


def _move(
    stock: BatchStock, *, kind: str, dq: int, dr: int, reference_type: str, reference_code: str, author=None, reason: str = "", at=None
) -> None:
    BatchStock.objects.filter(pk=stock.pk).update(quantity=F("quantity") + dq, reserved=F("reserved") + dr)
    stock.quantity += dq
    stock.reserved += dr
    BatchMovement.objects.create(
        batch_id=stock.batch_id,
        facility_id=stock.facility_id,
        kind=kind,
        quantity_delta=dq,
        reserved_delta=dr,
        reference_type=reference_type,
        reference_code=reference_code,
        author=author,
        reason=reason,
        created_at=at or timezone.now(),
    )


@transaction.atomic(savepoint=False)
def batch_stock_reserve(*, stock: BatchStock, units: int, reference_type: str, reference_code: str, author=None) -> None:
    if units <= 0:
        raise ValueError("units must be positive")
    if stock.quantity - stock.reserved < units:
        raise InsufficientStock(
            _("Batch %(batch)s: only %(n)s units available.") % {"batch": stock.batch.code, "n": stock.quantity - stock.reserved}
        )
    _move(stock, kind=MovementKind.RESERVE, dq=0, dr=units, reference_type=reference_type, reference_code=reference_code, author=author)


@transaction.atomic(savepoint=False)
def batch_stock_release(*, stock: BatchStock, units: int, reference_type: str, reference_code: str, author=None, reason: str = "") -> None:
    """Give reserved units back to sale (an order cancelled or left unpaid)."""
    _move(stock, kind=MovementKind.RELEASE, dq=0, dr=-units, reference_type=reference_type, reference_code=reference_code, author=author, reason=reason)


@transaction.atomic(savepoint=False)
def batch_stock_sell(*, stock: BatchStock, units: int, reference_type: str, reference_code: str, author=None) -> None:
    """Reserved units leave the shelf: sold."""
    _move(stock, kind=MovementKind.SELL, dq=-units, dr=-units, reference_type=reference_type, reference_code=reference_code, author=author)


@transaction.atomic(savepoint=False)
def batch_stock_return(*, stock: BatchStock, units: int, reference_type: str, reference_code: str, author=None, reason: str = "") -> None:
    """Sold units come back to the shelf (a return before or after fulfilment)."""
    _move(stock, kind=MovementKind.RETURN, dq=units, dr=0, reference_type=reference_type, reference_code=reference_code, author=author, reason=reason)


def batch_stock_receive(
    *, batch: PackedBatch, facility_id: int, units: int, reference_type: str, reference_code: str, author=None, kind: str = MovementKind.RECEIVE,
    at=None,
) -> BatchStock:
    """Units arrive at a facility (``packed`` at the station, ``receive`` from a shipment)."""
    stock, _created = BatchStock.objects.select_for_update().get_or_create(batch=batch, facility_id=facility_id)
    _move(stock, kind=kind, dq=units, dr=0, reference_type=reference_type, reference_code=reference_code, author=author, at=at)
    return stock


@transaction.atomic(savepoint=False)
def batch_stock_ship_out(*, stock: BatchStock, units: int, reference_type: str, reference_code: str, author=None, at=None) -> None:
    """Unreserved units leave a facility on a shipment (the caller holds the row lock)."""
    if units <= 0:
        raise ValueError("units must be positive")
    if stock.quantity - stock.reserved < units:
        raise InsufficientStock(
            _("Batch %(batch)s: only %(n)s units available.") % {"batch": stock.batch.code, "n": stock.quantity - stock.reserved}
        )
    _move(stock, kind=MovementKind.SHIP_OUT, dq=-units, dr=0, reference_type=reference_type, reference_code=reference_code, author=author, at=at)


@transaction.atomic(savepoint=False)
def batch_stock_loss(
    *, stock: BatchStock, units: int, reason: str, reference_type: str, reference_code: str = "", author=None, at=None
) -> None:
    """Units lost (damaged, spoiled, short on a shipment): never reserved ones."""
    if units <= 0:
        raise ValueError("units must be positive")
    if stock.quantity - stock.reserved < units:
        raise InsufficientStock(
            _("Batch %(batch)s: only %(n)s units available.") % {"batch": stock.batch.code, "n": stock.quantity - stock.reserved}
        )
    _move(stock, kind=MovementKind.LOSS, dq=-units, dr=0, reference_type=reference_type, reference_code=reference_code,
          author=author, reason=reason, at=at)


def batch_write_off_expired(*, batch: PackedBatch, author=None, facility: Facility | None = None, on=None) -> int:
    """Write off ``batch``'s expired units that no order holds, as ``expired`` movements (a
    recorded loss); returns the units written off, 0 when nothing is left (safe to repeat).

    At ``facility`` when given (staff write off what is at their own facility); at every
    facility that holds the batch otherwise — the daily task (``author`` None) and the county
    office. Reserved units stay: their order either pays (sold) or is released, and the next
    write-off takes them. A batch not yet past its date is refused."""
    on = on or county_today()
    with transaction.atomic():
        if author is not None:
            if facility is not None:
                ensure_acts_at(author, facility)
            elif not roles.is_county_office(author):
                raise NotAtYourFacility(_("You may write off only what is at your own facility."))
        batch = PackedBatch.objects.get(pk=batch.pk)
        if not batch_is_expired(batch, on=on):
            raise BatchStateConflict(
                _("Batch %(code)s is good until %(date)s: only units past their best-before date are written off as expired.")
                % {"code": batch.code, "date": batch.best_before.isoformat()}
            )
        rows = BatchStock.objects.select_for_update(of=("self",)).filter(batch=batch).select_related("batch").order_by("pk")
        if facility is not None:
            rows = rows.filter(facility=facility)
        written = 0
        for row in rows:
            free = row.quantity - row.reserved
            if free <= 0:
                continue
            _move(row, kind=MovementKind.EXPIRED, dq=-free, dr=0, reference_type=EXPIRY_REFERENCE, reference_code=batch.code,
                  author=author, reason=f"best before {batch.best_before.isoformat()}")
            written += free
    return written


def batches_write_off_expired(*, on=None) -> int:
    """The daily sweep: write off every expired unit no order holds, at every facility, one
    batch per transaction. Idempotent: a second run the same day writes nothing."""
    on = on or county_today()
    batch_ids = sorted(set(expired_stock(on=on).values_list("batch_id", flat=True)))
    written = 0
    for batch in PackedBatch.objects.filter(pk__in=batch_ids).order_by("pk"):
        written += batch_write_off_expired(batch=batch, on=on)
    return written


@transaction.atomic(savepoint=False)
def batch_stock_count_adjust(*, stock: BatchStock, units: int, reference_code: str, author=None, reason: str = "") -> None:
    """A stock-take's difference (``units`` may be negative: missing; positive: found) enters the
    books as a ``stocktake`` movement. The caller holds the row lock. Units held by orders stay:
    a count that would leave fewer units than orders hold is refused."""
    if units == 0:
        return
    if stock.quantity + units < stock.reserved:
        raise InsufficientStock(
            _("Batch %(batch)s: posting %(units)+d would leave %(left)s units, fewer than the %(reserved)s that orders hold.")
            % {"batch": stock.batch.code, "units": units, "left": stock.quantity + units, "reserved": stock.reserved}
        )
    _move(stock, kind=MovementKind.STOCKTAKE, dq=units, dr=0, reference_type=STOCKTAKE_REFERENCE, reference_code=reference_code,
          author=author, reason=reason)
