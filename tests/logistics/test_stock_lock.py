"""The plain PostgreSQL statements of stock (the checkout lock, the units on sale) find exactly what ``sellable_stock`` names."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from logistics.models import BatchStock, Facility, PackedBatch, PackingRun
from logistics.selectors.stock import county_today, sellable_stock
from logistics.services.stock import _sellable_rows_locked_pg, batch_stock_lock, batch_stock_receive
from tests.logistics.factories import SkuFactory, StationFactory, SupermarketFactory

pytestmark = pytest.mark.django_db


def _batch(sku, facility, units, *, n, best_before=None, passed=True, on_hold=False):
    station = StationFactory()
    packed_at = timezone.now() - datetime.timedelta(days=10, seconds=n)
    user = get_user_model().objects.get_or_create(username="lock-packer")[0]
    run = PackingRun.objects.create(code=f"PR-L{n}", station=station, sku=sku, created_by=user, created_at=packed_at)
    batch = PackedBatch.objects.create(
        code=f"B-L{n}", sku=sku, station=station, packing_run=run, units=units, unit_weight_kg=sku.unit_weight_kg,
        best_before=best_before or (packed_at + datetime.timedelta(days=365)).date(), packed_at=packed_at,
        inspection_status=PackedBatch.Inspection.PASSED if passed else PackedBatch.Inspection.PENDING, on_hold=on_hold,
    )
    with transaction.atomic():
        batch_stock_receive(batch=batch, facility_id=facility.pk, units=units, reference_type="test", reference_code=batch.code)
    return batch


def test_the_plain_locking_statement_finds_exactly_the_sellable_rows(on_postgres):
    shop, elsewhere = SupermarketFactory(), Facility.objects.create(kind=Facility.Kind.SUPERMARKET, code="SM-OTHER", name="另一超市")
    sku, other_sku = SkuFactory(), SkuFactory()
    today = county_today()
    good = _batch(sku, shop, 5, n=1)
    _batch(sku, shop, 5, n=2, passed=False)  # not inspected
    _batch(sku, shop, 5, n=3, on_hold=True)  # recalled
    _batch(sku, shop, 5, n=4, best_before=today - datetime.timedelta(days=1))  # past its date
    last_day = _batch(sku, shop, 5, n=5, best_before=today)  # its last day: still sellable
    _batch(sku, elsewhere, 5, n=6)  # not at the supermarket
    _batch(other_sku, shop, 5, n=7)  # another SKU
    all_reserved = _batch(sku, shop, 3, n=8)  # nothing left to sell
    BatchStock.objects.filter(batch=all_reserved).update(reserved=F("quantity"))

    with transaction.atomic():
        plain = _sellable_rows_locked_pg(facility_id=None, sku_ids=[sku.pk], on=today)
        orm = list(sellable_stock(facility_id=None, sku_ids=[sku.pk], on=today).select_related("batch").order_by("pk"))
        locked = batch_stock_lock(facility_id=None, sku_ids={sku.pk})

    assert [r.pk for r in plain] == [r.pk for r in orm]
    assert {r.batch_id for r in plain} == {good.pk, last_day.pk}
    for mine, theirs in zip(plain, orm, strict=True):
        assert (mine.facility_id, mine.quantity, mine.reserved) == (theirs.facility_id, theirs.quantity, theirs.reserved)
        assert (mine.batch.code, mine.batch.best_before, mine.batch.packed_at, mine.batch.sku_id, mine.batch.unit_weight_kg) == (
            theirs.batch.code, theirs.batch.best_before, theirs.batch.packed_at, theirs.batch.sku_id, theirs.batch.unit_weight_kg
        )
    assert [r.batch_id for r in locked] == [last_day.pk, good.pk]  # FEFO: the one whose date comes first
    with transaction.atomic():
        assert [r.pk for r in _sellable_rows_locked_pg(facility_id=elsewhere.pk, sku_ids=[sku.pk], on=today)] == [
            r.pk for r in sellable_stock(facility_id=elsewhere.pk, sku_ids=[sku.pk], on=today).order_by("pk")
        ]


def test_the_plain_available_units_statement_sums_exactly_the_sellable_rows(on_postgres):
    """``available_units`` runs a plain statement on PostgreSQL: the same figure per SKU as
    ``sellable_stock``'s rows, through every reason a unit is not for sale."""
    from logistics.selectors.stock import _available_units_pg, available_units

    shop, elsewhere = SupermarketFactory(), Facility.objects.create(kind=Facility.Kind.SUPERMARKET, code="SM-OTHER", name="另一超市")
    sku, other_sku, empty_sku = SkuFactory(), SkuFactory(), SkuFactory()
    today = county_today()
    _batch(sku, shop, 5, n=1)
    _batch(sku, shop, 7, n=2, passed=False)
    _batch(sku, shop, 11, n=3, on_hold=True)
    _batch(sku, shop, 13, n=4, best_before=today - datetime.timedelta(days=1))
    _batch(sku, shop, 17, n=5, best_before=today)
    _batch(sku, elsewhere, 19, n=6)
    _batch(other_sku, shop, 23, n=7)
    part = _batch(other_sku, shop, 29, n=8)
    BatchStock.objects.filter(batch=part).update(reserved=4)
    gone = _batch(sku, shop, 3, n=9)
    BatchStock.objects.filter(batch=gone).update(reserved=F("quantity"))

    ids = [sku.pk, other_sku.pk, empty_sku.pk]
    by_rows = {i: sum(r.quantity - r.reserved for r in sellable_stock(sku_ids=[i], on=today)) for i in ids}
    assert by_rows == {sku.pk: 5 + 17, other_sku.pk: 23 + 25, empty_sku.pk: 0}
    assert available_units(sku_ids=ids, on=today) == by_rows
    assert _available_units_pg(ids, today) == {k: v for k, v in by_rows.items() if v}
    tomorrow = today + datetime.timedelta(days=1)  # the last-day batch is off sale tomorrow
    assert available_units(sku_ids=ids, on=tomorrow) == {
        i: sum(r.quantity - r.reserved for r in sellable_stock(sku_ids=[i], on=tomorrow)) for i in ids
    }
