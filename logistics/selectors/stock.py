"""What may be sold, and where: the one home of the rules every sales path asks.

- ``supermarket()`` — which facility is "the supermarket" (the county's poverty-relief
  supermarket: the first active facility of that kind). Checkout, the storefront's stock
  figures, the API, order cancellation and the staff screens all ask this one function.
- ``sellable_stock()`` — the retail units that may be sold now: at the supermarket, of a batch
  that passed inspection, is not on hold (recall) and is not past its best-before date. The
  date is the county's calendar day (Asia/Shanghai), so a batch whose best-before is today is
  still sold today and is off sale from local midnight, whatever zone the server runs in.
- ``FEFO`` — the order units are taken in: earliest best-before first, then oldest packed.
- ``expiring_stock()`` — what a facility holds that expires within a few days (or already has),
  for the station's and the supermarket's "expiring soon" lists and the expiry write-off.

Storefront badges (cms), the API's ``available``, the cart preview, checkout's reservation and
the counter all read stock through these, so the copies cannot drift.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from core.sql_prepared import prepared_cursor

from ..errors import NoSupermarket
from ..models import BatchStock, Facility, PackedBatch

EXPIRING_WITHIN_DAYS = 7
# First expiring first, then first packed (FIFO) among batches of one date, then the id for a
# stable order: the order checkout takes units in and the order the lists show.
FEFO = ("batch__best_before", "batch__packed_at", "batch_id")


def county_today(now: datetime.datetime | None = None) -> datetime.date:
    """The county's calendar day (its zone is ``settings.TIME_ZONE``, Asia/Shanghai)."""
    return timezone.localtime(now or timezone.now(), ZoneInfo(settings.TIME_ZONE)).date()


def supermarkets() -> QuerySet[Facility]:
    """The candidates, best first; ``supermarket()`` is the first of them."""
    return Facility.objects.filter(kind=Facility.Kind.SUPERMARKET, active=True).order_by("pk")


def supermarket() -> Facility | None:
    """The county's supermarket, or None while none is set up."""
    return supermarkets().first()


def supermarket_required() -> Facility:
    """``supermarket()``, or NoSupermarket when none is set up (what a sale needs)."""
    facility = supermarket()
    if facility is None:
        raise NoSupermarket(_("The supermarket is not set up yet."))
    return facility


def batch_sellable_q(*, on: datetime.date | None = None, prefix: str = "batch__") -> Q:
    """A batch may be sold on ``on`` (the county's today): inspected, not held, not past its date."""
    on = on or county_today()
    return Q(**{
        f"{prefix}inspection_status": PackedBatch.Inspection.PASSED,
        f"{prefix}on_hold": False,
        f"{prefix}best_before__gte": on,
    })


def batch_is_sellable(batch: PackedBatch, *, on: datetime.date | None = None) -> bool:
    """The same rule as ``batch_sellable_q`` for a batch already in memory."""
    on = on or county_today()
    return batch.inspection_status == PackedBatch.Inspection.PASSED and not batch.on_hold and batch.best_before >= on


def batch_is_expired(batch: PackedBatch, *, on: datetime.date | None = None) -> bool:
    return batch.best_before < (on or county_today())


def sellable_stock(
    *, sku_ids: Iterable[int] | None = None, on: datetime.date | None = None, facility_id: int | None = None
) -> QuerySet[BatchStock]:
    """Stock rows with units that may be sold now, earliest-expiring first (FEFO).

    ``facility_id`` defaults to the supermarket's (the only place that sells); no supermarket,
    nothing sellable."""
    qs = BatchStock.objects.filter(batch_sellable_q(on=on), quantity__gt=F("reserved"))
    if facility_id is None:
        qs = qs.filter(facility_id=Subquery(supermarkets().values("pk")[:1]))
    else:
        qs = qs.filter(facility_id=facility_id)
    if sku_ids is not None:
        qs = qs.filter(batch__sku_id__in=list(sku_ids))
    return qs.order_by(*FEFO)


def available_units_subquery(sku_ref: str = "sku_id", *, on: datetime.date | None = None):
    """An expression: units of the SKU at ``OuterRef(sku_ref)`` on sale now (on hand − reserved
    over sellable batches), 0 when none. For annotating products or product pages in one query."""
    per_sku = (
        sellable_stock(on=on)
        .filter(batch__sku_id=OuterRef(sku_ref))
        .order_by()
        .values("batch__sku_id")
        .annotate(n=Sum(F("quantity") - F("reserved")))
        .values("n")
    )
    return Coalesce(Subquery(per_sku, output_field=IntegerField()), Value(0))


def available_units(*, sku_ids: Iterable[int], on: datetime.date | None = None) -> dict[int, int]:
    """{sku id: units on sale now} for these SKUs (0 where none)."""
    ids = list(sku_ids)
    if connection.vendor == "postgresql":
        found = _available_units_pg(ids, on or county_today())
    else:
        found = dict(
            sellable_stock(sku_ids=ids, on=on).order_by().values("batch__sku_id")
            .annotate(n=Sum(F("quantity") - F("reserved"))).values_list("batch__sku_id", "n")
        )
    return {sku_id: int(found.get(sku_id) or 0) for sku_id in ids}


def skus_in_stock(*, on: datetime.date | None = None) -> dict[int, tuple[int, datetime.datetime | None]]:
    """{sku id: (units on sale now, when its newest batch was packed)} for every SKU with units on
    sale (``available_units``' rule): what the storefront's "this season" list is chosen from.
    The newest batch is the SKU's newest of all, sellable or not (the product's own freshness)."""
    on = on or county_today()
    if connection.vendor == "postgresql":
        return _skus_in_stock_pg(on)
    newest = PackedBatch.objects.filter(sku_id=OuterRef("batch__sku_id")).order_by("-packed_at").values("packed_at")[:1]
    rows = (
        sellable_stock(on=on).order_by().values("batch__sku_id")
        .annotate(n=Sum(F("quantity") - F("reserved")), newest=Subquery(newest)).values_list("batch__sku_id", "n", "newest")
    )
    return {sku_id: (int(n), newest_at) for sku_id, n, newest_at in rows if n}


def _skus_in_stock_pg(on: datetime.date) -> dict[int, tuple[int, datetime.datetime | None]]:
    """``skus_in_stock`` as one plain statement, prepared (the home page asks on every render)."""
    sellable, params = sellable_stock_sql(on=on)
    sql = (
        f"SELECT b.sku_id, SUM(s.quantity - s.reserved), "
        f"(SELECT MAX(n.packed_at) FROM {connection.ops.quote_name(PackedBatch._meta.db_table)} n WHERE n.sku_id = b.sku_id) "
        f"{sellable} GROUP BY b.sku_id"
    )
    with prepared_cursor(connection.alias) as cursor:
        cursor.execute(sql, params)
        return {sku_id: (int(n), newest_at) for sku_id, n, newest_at in cursor.fetchall()}


@lru_cache(maxsize=1)
def supermarket_sql() -> tuple[str, tuple]:
    """``supermarkets()``'s first id as a subquery: the ORM's SQL, compiled once per process."""
    sql, params = supermarkets().values("pk")[:1].query.sql_with_params()
    return f"({sql})", tuple(params)


def _available_units_pg(sku_ids: list[int], on: datetime.date) -> dict[int, int]:
    """``available_units``' sum as one plain statement (the SKUs as one array): the cart and the
    checkout form ask on every view, and the ORM spent longer building it than PostgreSQL running
    it; prepared, as PostgreSQL spent longer planning it than running it. The rule is
    ``batch_sellable_q``'s and ``sellable_stock``'s (inspected, not held, not past ``on``, at the
    supermarket, units left); tests/logistics/test_stock_lock.py holds the two to the same figures."""
    sellable, params = sellable_stock_sql(on=on)
    with prepared_cursor(connection.alias) as cursor:
        cursor.execute(f"SELECT b.sku_id, SUM(s.quantity - s.reserved) {sellable} AND b.sku_id = ANY(%s) GROUP BY b.sku_id", [*params, sku_ids])
        return dict(cursor.fetchall())


def sellable_stock_sql(*, on: datetime.date, facility_id: int | None = None) -> tuple[str, list]:
    """``sellable_stock``'s rows as plain SQL for PostgreSQL statements that run on every page or
    order: ``FROM`` the stock rows ``s`` ``JOIN`` their batches ``b`` ``WHERE`` the batch may be
    sold on ``on`` (``batch_sellable_q``: inspected, not held, not past its date), units are left,
    at ``facility_id`` (None: the supermarket). Returns the SQL and its parameters; callers add
    ``AND …`` and the rest."""
    quote = connection.ops.quote_name
    if facility_id is None:
        facility_sql, facility_params = supermarket_sql()
    else:
        facility_sql, facility_params = "%s", (facility_id,)
    sql = (
        f"FROM {quote(BatchStock._meta.db_table)} s JOIN {quote(PackedBatch._meta.db_table)} b ON b.id = s.batch_id "
        f"WHERE b.inspection_status = %s AND NOT b.on_hold AND b.best_before >= %s AND s.quantity > s.reserved "
        f"AND s.facility_id = {facility_sql}"
    )
    return sql, [PackedBatch.Inspection.PASSED, on, *facility_params]


def expiring_stock(
    *, facility_id: int | None = None, within_days: int = EXPIRING_WITHIN_DAYS, on: datetime.date | None = None
) -> QuerySet[BatchStock]:
    """Stock rows holding units whose best-before is within ``within_days`` of today or already
    past, earliest first; at one facility when given."""
    on = on or county_today()
    qs = BatchStock.objects.filter(quantity__gt=0, batch__best_before__lte=on + datetime.timedelta(days=within_days))
    if facility_id is not None:
        qs = qs.filter(facility_id=facility_id)
    return qs.select_related("batch__sku", "facility").order_by(*FEFO, "facility_id")


def expiring_rows(*, facility_id: int, within_days: int = EXPIRING_WITHIN_DAYS, on: datetime.date | None = None,
                  limit: int = 100) -> list[BatchStock]:
    """``expiring_stock`` evaluated for a page: each row with ``days_left`` (``days_ago`` once
    past), ``expired`` and ``writable_off`` (expired units no order holds: what the write-off takes)."""
    on = on or county_today()
    rows = list(expiring_stock(facility_id=facility_id, within_days=within_days, on=on)[:limit])
    for row in rows:
        row.days_left = (row.batch.best_before - on).days
        row.expired = row.days_left < 0
        row.days_ago = -row.days_left if row.expired else 0
        row.writable_off = row.quantity - row.reserved if row.expired else 0
    return rows


def expired_stock(*, on: datetime.date | None = None) -> QuerySet[BatchStock]:
    """Every stock row with expired units that no order holds: what the daily write-off takes."""
    on = on or county_today()
    return BatchStock.objects.filter(batch__best_before__lt=on, quantity__gt=F("reserved")).order_by("batch_id", "facility_id")
