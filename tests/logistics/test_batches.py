"""Inspection gate and recalls: a batch is sellable only once passed and while not on hold."""

import pytest

from core.errors import NotAllowed
from logistics.errors import BatchStateConflict, InvalidQuantity
from logistics.models import BatchHoldEvent, PackedBatch
from logistics.services.batches import batch_hold, batch_inspect, batch_release_hold
from logistics.services.shipments import shipment_dispatch, shipment_receive
from logistics.services.stock import batch_stock_lock, sellable_stock_queryset
from tests.logistics.chain_factories import chain

pytestmark = pytest.mark.django_db


def _at_supermarket(c, *, inspected: bool | None):
    a, b = c.lots_at_station(2, weight_kg="10")
    batch = c.pack([(a, "10"), (b, "10")], units=8)
    if inspected is not None:
        batch_inspect(batch=batch, passed=inspected, inspector=c.county, notes="" if inspected else "水分超标")
    shipment = shipment_dispatch(origin=c.station, lines=[(batch, 8)], author=c.station_staff)
    shipment_receive(shipment=shipment, received={}, author=c.shop_staff)
    return batch


def _sellable_ids(c):
    return set(sellable_stock_queryset(facility_id=c.supermarket.pk).values_list("batch_id", flat=True))


def test_an_uninspected_batch_is_never_sellable():
    c = chain()
    batch = _at_supermarket(c, inspected=None)
    assert batch.pk not in _sellable_ids(c)
    assert batch_stock_lock(facility_id=c.supermarket.pk, sku_ids=[c.sku.pk]) == []


def test_a_passed_batch_is_sellable_and_a_failed_one_is_not():
    c = chain()
    passed = _at_supermarket(c, inspected=True)
    failed = _at_supermarket(c, inspected=False)
    assert _sellable_ids(c) == {passed.pk}
    failed.refresh_from_db()
    assert failed.inspection_status == PackedBatch.Inspection.FAILED


def test_a_failed_inspection_needs_notes():
    c = chain()
    (a,) = c.lots_at_station(1, weight_kg="5")
    batch = c.pack([(a, "5")], units=2)
    with pytest.raises(InvalidQuantity):
        batch_inspect(batch=batch, passed=False, inspector=c.county, notes="")


def test_only_the_packing_station_or_county_office_inspects():
    c = chain()
    (a,) = c.lots_at_station(1, weight_kg="5")
    batch = c.pack([(a, "5")], units=2)
    for user in (c.point_staff, c.shop_staff):
        with pytest.raises(NotAllowed):
            batch_inspect(batch=batch, passed=True, inspector=user)
    batch_inspect(batch=batch, passed=True, inspector=c.station_staff)
    assert batch.inspections.get().inspector == c.station_staff


def test_a_hold_takes_the_batch_off_sale_at_once_and_release_returns_it():
    c = chain()
    batch = _at_supermarket(c, inspected=True)
    assert batch.pk in _sellable_ids(c)
    batch_hold(batch=batch, reason="农残超标召回", author=c.county)
    assert batch.pk not in _sellable_ids(c)
    assert batch_stock_lock(facility_id=c.supermarket.pk, sku_ids=[c.sku.pk]) == []
    with pytest.raises(BatchStateConflict):
        batch_hold(batch=batch, reason="again", author=c.county)
    batch_release_hold(batch=batch, reason="复检合格", author=c.county)
    assert batch.pk in _sellable_ids(c)
    assert list(BatchHoldEvent.objects.filter(batch=batch).values_list("action", flat=True)) == ["hold", "release"]


def test_a_hold_needs_a_reason_and_a_facility_that_has_the_batch():
    c = chain()
    batch = _at_supermarket(c, inspected=True)
    with pytest.raises(InvalidQuantity):
        batch_hold(batch=batch, reason=" ", author=c.county)
    with pytest.raises(NotAllowed):
        batch_hold(batch=batch, reason="x", author=c.point_staff)
    batch_hold(batch=batch, reason="顾客投诉", author=c.shop_staff)  # the supermarket holds units of it
    with pytest.raises(NotAllowed):
        batch_release_hold(batch=batch, reason="ok", author=c.shop_staff)  # releasing is the station's or county's
