"""Packing runs: inputs only from lots on hand at the station, never more than remains, the
weight rule, the composition fixed by input weight, the batch's stock and its code."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from core.errors import NotAllowed
from logistics.errors import InsufficientLotStock, PackingRefused
from logistics.models import BatchMovement, BatchShare, BatchStock, LotMovement, MovementKind, PackedBatch, PackingRun
from logistics.reconcile import run_checks
from logistics.selectors.lots import lot_on_hand
from logistics.services.packing import packing_run_complete
from tests.logistics.chain_factories import chain
from tests.logistics.factories import SkuFactory

pytestmark = pytest.mark.django_db


def test_a_packing_run_consumes_inputs_and_produces_a_batch_in_stock_at_the_station():
    c = chain()
    a, b = c.lots_at_station(2, weight_kg="10")
    batch = c.pack([(a, "10"), (b, "6")], units=6, waste_kg="1")
    assert batch.units == 6 and batch.unit_weight_kg == Decimal("2.500") and batch.station == c.station
    assert batch.inspection_status == PackedBatch.Inspection.PENDING
    run = batch.packing_run
    assert run.waste_kg == Decimal("1.000") and run.inputs.count() == 2
    assert lot_on_hand(facility_id=c.station.pk, lot_ids=[a.pk, b.pk]) == {a.pk: Decimal("0"), b.pk: Decimal("4.000")}
    assert LotMovement.objects.filter(kind=MovementKind.PACK_CONSUME, reference_code=run.code).count() == 2
    stock = BatchStock.objects.get(batch=batch, facility=c.station)
    assert stock.quantity == 6 and stock.reserved == 0
    assert BatchMovement.objects.get(batch=batch).kind == MovementKind.PACKED
    assert all(not v for v in run_checks().values())


def test_household_shares_are_fixed_by_input_weight():
    c = chain()
    a = c.intake(c.households[0], weight_kg="10")
    b = c.intake(c.households[0], weight_kg="5")
    d = c.intake(c.households[1], weight_kg="5")
    c.ship_to_station([(a, "10"), (b, "5"), (d, "5")])
    batch = c.pack([(a, "10"), (b, "5"), (d, "5")], units=8)
    shares = dict(BatchShare.objects.filter(batch=batch).values_list("household__number", "weight_kg"))
    assert shares == {c.households[0].number: Decimal("15.000"), c.households[1].number: Decimal("5.000")}


def test_inputs_must_weigh_units_times_unit_weight_plus_waste():
    c = chain()
    a, b = c.lots_at_station(2, weight_kg="10")
    with pytest.raises(PackingRefused) as info:
        c.pack([(a, "10"), (b, "10")], units=7, waste_kg="2")  # 17.5 + 2 = 19.5 ≠ 20
    assert "19.5" in info.value.problems[0]
    assert not PackingRun.objects.exists()


def test_packing_never_consumes_more_than_remains_and_lists_every_shortfall():
    c = chain()
    a, b = c.lots_at_station(2, weight_kg="10")
    c.pack([(a, "5")], units=2)
    with pytest.raises(InsufficientLotStock) as info:
        c.pack([(a, "6"), (b, "11")], units=6, waste_kg="2")
    assert len([p for p in info.value.problems if "公斤" in p and (a.code in p or b.code in p)]) == 2
    assert PackingRun.objects.count() == 1


def test_inputs_only_from_lots_at_this_station():
    c = chain()
    at_point = c.intake(weight_kg="10")
    with pytest.raises(InsufficientLotStock):
        c.pack([(at_point, "10")], units=4)


def test_inputs_must_be_the_skus_produce_and_grade():
    c = chain()
    a = c.intake(weight_kg="10", grade="grade2")
    c.ship_to_station([(a, "10")])
    with pytest.raises(PackingRefused):
        c.pack([(a, "10")], units=4)
    any_grade = SkuFactory(produce=c.sku.produce, grade=None, unit_weight_kg=Decimal("1.000"))
    batch = packing_run_complete(station=c.station, sku=any_grade, inputs=[(a, "10")], units=10, waste_kg="0", author=c.station_staff)
    assert batch.units == 10


def test_only_station_staff_of_this_station_pack():
    c = chain()
    (a,) = c.lots_at_station(1, weight_kg="10")
    for user in (c.point_staff, c.shop_staff):
        with pytest.raises(NotAllowed):
            packing_run_complete(station=c.station, sku=c.sku, inputs=[(a, "10")], units=4, waste_kg="0", author=user)
    with pytest.raises(PackingRefused):
        packing_run_complete(station=c.point, sku=c.sku, inputs=[(a, "10")], units=4, waste_kg="0", author=c.county)


def test_batch_codes_are_readable_and_unique_per_station_and_day():
    c = chain()
    lots = c.lots_at_station(3, weight_kg="5")
    codes = [c.pack([(lot, "5")], units=2).code for lot in lots]
    assert len(set(codes)) == 3
    assert all(code.startswith(c.station.code) and len(code) <= 32 for code in codes)
    assert [code[-3:] for code in codes] == ["001", "002", "003"]


def test_unit_weight_and_best_before_default_from_the_sku():
    c = chain()
    (a,) = c.lots_at_station(1, weight_kg="5")
    batch = c.pack([(a, "5")], units=2)
    assert batch.unit_weight_kg == c.sku.unit_weight_kg
    # Best-before counts from the county's calendar day (Asia/Shanghai), not UTC's.
    assert (batch.best_before - timezone.localtime(batch.packed_at).date()).days == c.sku.shelf_life_days


@pytest.mark.django_db(transaction=True)
def test_two_packing_runs_racing_for_one_lot_never_overconsume(on_postgres):
    c = chain()
    (a,) = c.lots_at_station(1, weight_kg="10")
    results = []
    barrier = threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            c.pack([(a, "10")], units=4)
            results.append("ok")
        except InsufficientLotStock:
            results.append("short")
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "short"]
    assert lot_on_hand(facility_id=c.station.pk, lot_ids=[a.pk])[a.pk] == 0
