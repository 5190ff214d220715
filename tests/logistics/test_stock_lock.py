"""batch_stock_lock's plain PostgreSQL statement locks exactly the rows ``sellable_stock`` names."""

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
