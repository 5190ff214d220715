"""The shop's reconciliation checks, registered with logistics' ``reconcile`` from
``MarketplaceConfig.ready()``; and the forward-trace extension (batch → the order lines that took
its units).

Each check is one aggregate SQL statement returning only what does not balance.
"""

from __future__ import annotations

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from core.money import yuan
from core.sql_prepared import prepared_cursor
from households.models import SalesChannel
from logistics.models import BatchStock, Facility

from .models import AllocationEntry, Order, OrderLine, OrderLineBatch

EPS = "0.005"  # half a fen: SQLite sums decimals as floats


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def check_allocation_ledger() -> list[str]:
    """Per employee and year every ``balance_after`` is the running sum of the amounts
    (grant − spent + refunded − expired ± carried over) and never negative."""
    sql = f"""
        SELECT employee_id, year, id, balance_after, running FROM (
            SELECT employee_id, year, id, balance_after,
                   SUM(amount) OVER (PARTITION BY employee_id, year ORDER BY id ROWS UNBOUNDED PRECEDING) AS running
            FROM {_t(AllocationEntry)}
        ) ledger
        WHERE ABS(balance_after - running) > {EPS} OR balance_after < 0
    """
    return [
        f"allocation employee {employee} year {year}: entry {entry} says balance {yuan(balance)}, the entries add up to {yuan(running)}"
        for employee, year, entry, balance, running in _rows(sql)
    ]


def check_order_allocation_spend() -> list[str]:
    """What each order took from the allocation is one spend entry of exactly that amount."""
    sql = f"""
        SELECT o.number, o.allocation_amount, COALESCE(-SUM(e.amount), 0)
        FROM {_t(Order)} o
        LEFT JOIN {_t(AllocationEntry)} e ON e.order_number = o.number AND e.kind = 'spend'
        GROUP BY o.id, o.number, o.allocation_amount
        HAVING ABS(o.allocation_amount - COALESCE(-SUM(e.amount), 0)) > {EPS}
    """
    return [f"order {n}: allocation part {yuan(a)}, spend entries {yuan(s)}" for n, a, s in _rows(sql)]


def check_reserved_units_are_pending_orders() -> list[str]:
    """At the supermarket, each batch's reserved units = the units of its pending-payment orders."""
    sql = f"""
        SELECT s.batch_id, s.reserved, COALESCE(p.units, 0) FROM {_t(BatchStock)} s
        JOIN {_t(Facility)} f ON f.id = s.facility_id AND f.kind = %s
        LEFT JOIN (
            SELECT lb.batch_id, SUM(lb.units) AS units
            FROM {_t(OrderLineBatch)} lb
            JOIN {_t(OrderLine)} l ON l.id = lb.line_id
            JOIN {_t(Order)} o ON o.id = l.order_id AND o.status = %s
            GROUP BY lb.batch_id
        ) p ON p.batch_id = s.batch_id
        WHERE s.reserved <> COALESCE(p.units, 0)
    """
    return [
        f"batch {batch}: {reserved} units reserved at the supermarket, pending orders hold {units}"
        for batch, reserved, units in _rows(sql, [Facility.Kind.SUPERMARKET, Order.Status.PENDING_PAYMENT])
    ]


CHECKS = {
    "allocation_ledger": check_allocation_ledger,
    "order_allocation_spend": check_order_allocation_spend,
    "reserved_units_pending_orders": check_reserved_units_are_pending_orders,
}


def _line_batches_of(batch_ids: list[int]) -> list[int]:
    """Ids of the order lines' batch shares of these batches. On PostgreSQL the ids go as one
    array parameter: Django prepares an ``__in`` list element by element, which for a household's
    few hundred batches cost more CPU than the query."""
    if connection.vendor != "postgresql":
        return list(OrderLineBatch.objects.filter(batch_id__in=batch_ids).values_list("pk", flat=True))
    column = OrderLineBatch._meta.get_field("batch").column
    with prepared_cursor(connection.alias) as cursor:  # one text whatever the batches: planned once per connection
        cursor.execute(f"SELECT id FROM {OrderLineBatch._meta.db_table} WHERE {column} = ANY(%s)", [[int(i) for i in batch_ids]])
        return [row[0] for row in cursor.fetchall()]


def sales_of_batches(batch_ids: list[int]) -> list[dict]:
    """Forward trace: the order lines that took units of these batches — order number, date,
    units and the buyer's employer; never the buyer's name (staff trace only). ``.values()``
    rows (no model instances), whatever the number of sales: one query of one table finds the
    sales, and only when there are some does a second one join their orders, employers and products
    (compiling and planning that seven-table join was the largest cost of a trace without sales)."""
    if not batch_ids:
        return []
    sold = _line_batches_of(batch_ids)
    if not sold:
        return []
    rows = (
        OrderLineBatch.objects.filter(pk__in=sold)
        .order_by("line__order__created_at", "pk")
        .values("units", "batch__code", "line__order__number", "line__order__created_at", "line__order__status",
                "line__order__channel", "line__order__employee_id", "line__order__employee__employer__name", "line__product__name")
    )
    status_labels = {value: str(label) for value, label in Order.Status.choices}
    channel_labels = {value: str(label) for value, label in SalesChannel.choices}
    sale = _("Sale")
    return [
        {
            "type": "sale",
            "type_label": sale,
            "batch_code": r["batch__code"],
            "order_number": r["line__order__number"],
            "date": timezone.localtime(r["line__order__created_at"]).date().isoformat(),
            "status": r["line__order__status"],
            "status_label": status_labels.get(r["line__order__status"], r["line__order__status"]),
            "product": r["line__product__name"],
            "units": r["units"],
            # a counter sale or canteen delivery may have no employee: its channel says who bought
            "employer": (r["line__order__employee__employer__name"] if r["line__order__employee_id"]
                         else channel_labels.get(r["line__order__channel"], r["line__order__channel"])),
        }
        for r in rows
    ]


def register() -> None:
    """Called from MarketplaceConfig.ready(): plug the checks and the trace extension in."""
    try:
        from logistics.reconcile import register_check
    except ImportError:  # logistics without a reconcile registry: nothing to plug into
        register_check = None
    if register_check is not None:
        for name, fn in CHECKS.items():
            register_check(name)(fn)
    try:
        from logistics.selectors.trace import register_forward_extension
    except ImportError:
        return
    register_forward_extension(sales_of_batches)
