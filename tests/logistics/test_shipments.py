"""Shipments between tiers and losses at a facility: routes, scoping, on-hand limits, receipt rules."""

from decimal import Decimal

import pytest

from core.errors import NotAllowed
from logistics.errors import InsufficientLotStock, InvalidQuantity, ReceiptRefused, ShipmentAlreadyReceived, WrongRoute
from logistics.models import BatchStock, LotMovement, MovementKind, Shipment, ShipmentLine
from logistics.reconcile import run_checks
from logistics.selectors.lots import lot_on_hand
from logistics.services.batches import batch_hold, batch_inspect
from logistics.services.shipments import batch_loss_record, lot_loss_record, shipment_dispatch, shipment_receive
from logistics.services.stock import InsufficientStock
from tests.logistics.chain_factories import chain

pytestmark = pytest.mark.django_db


def _balanced():
    problems = {k: v for k, v in run_checks().items() if v}
    assert problems == {}


def test_point_ships_only_to_its_townships_station():
    c = chain()
    lot = c.intake(weight_kg="20")
    shipment = shipment_dispatch(origin=c.point, lines=[(lot, "20")], author=c.point_staff)
    assert shipment.destination == c.station
    assert shipment.lines.get().dispatched == Decimal("20.000")
    assert lot_on_hand(facility_id=c.point.pk, lot_ids=[lot.pk])[lot.pk] == 0
    movement = LotMovement.objects.get(lot=lot, kind=MovementKind.SHIP_OUT)
    assert movement.facility == c.point and movement.quantity_kg == Decimal("-20.000") and movement.reference_code == shipment.code


def test_the_supermarket_ships_nowhere():
    c = chain()
    with pytest.raises(WrongRoute):
        shipment_dispatch(origin=c.supermarket, lines=[], author=c.shop_staff)


def test_staff_cannot_dispatch_from_another_facility_but_county_office_can():
    c = chain()
    lot = c.intake(weight_kg="5")
    with pytest.raises(NotAllowed):
        shipment_dispatch(origin=c.point, lines=[(lot, "5")], author=c.other_point_staff)
    with pytest.raises(NotAllowed):
        shipment_dispatch(origin=c.point, lines=[(lot, "5")], author=c.station_staff)
    assert not Shipment.objects.exists()
    shipment_dispatch(origin=c.point, lines=[(lot, "5")], author=c.county)
    assert Shipment.objects.count() == 1


def test_dispatch_never_ships_more_than_on_hand_and_lists_every_shortfall():
    c = chain()
    a, b = c.intake(weight_kg="10"), c.intake(weight_kg="4")
    with pytest.raises(InsufficientLotStock) as info:
        shipment_dispatch(origin=c.point, lines=[(a, "10.001"), (b, "5")], author=c.point_staff)
    assert len(info.value.problems) == 2
    assert a.code in info.value.problems[0] and b.code in info.value.problems[1]
    assert not Shipment.objects.exists() and not LotMovement.objects.filter(kind=MovementKind.SHIP_OUT).exists()


def test_the_same_lot_twice_on_one_shipment_counts_together():
    c = chain()
    a = c.intake(weight_kg="10")
    with pytest.raises(InsufficientLotStock):
        shipment_dispatch(origin=c.point, lines=[(a, "6"), (a, "6")], author=c.point_staff)
    shipment = shipment_dispatch(origin=c.point, lines=[(a, "6"), (a, "4")], author=c.point_staff)
    assert shipment.lines.get().dispatched == Decimal("10.000")


@pytest.mark.parametrize("qty", ["0", "-1", "abc", "NaN", "Infinity"])
def test_dispatch_refuses_quantities_that_are_not_positive_numbers(qty):
    c = chain()
    a = c.intake(weight_kg="10")
    with pytest.raises(InvalidQuantity):
        shipment_dispatch(origin=c.point, lines=[(a, qty)], author=c.point_staff)


def test_a_lot_cannot_be_shipped_twice():
    c = chain()
    a = c.intake(weight_kg="10")
    shipment_dispatch(origin=c.point, lines=[(a, "10")], author=c.point_staff)
    with pytest.raises(InsufficientLotStock):
        shipment_dispatch(origin=c.point, lines=[(a, "1")], author=c.point_staff)


def test_receipt_in_full_moves_the_lot_to_the_station():
    c = chain()
    a = c.intake(weight_kg="10")
    shipment = shipment_dispatch(origin=c.point, lines=[(a, "10")], author=c.point_staff)
    shipment_receive(shipment=shipment, received={}, author=c.station_staff)
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.RECEIVED and shipment.received_by == c.station_staff
    assert lot_on_hand(facility_id=c.station.pk, lot_ids=[a.pk])[a.pk] == Decimal("10.000")
    _balanced()


def test_a_shortfall_is_booked_as_loss_with_its_reason_and_the_books_balance():
    c = chain()
    a = c.intake(weight_kg="10")
    shipment = shipment_dispatch(origin=c.point, lines=[(a, "10")], author=c.point_staff)
    line = shipment.lines.get()
    shipment_receive(shipment=shipment, received={line.pk: "9.250"}, loss_reasons={line.pk: "运输途中破袋"}, author=c.station_staff)
    line.refresh_from_db()
    assert line.received == Decimal("9.250") and line.loss_reason == "运输途中破袋"
    loss = LotMovement.objects.get(lot=a, kind=MovementKind.LOSS)
    assert loss.facility == c.station and loss.quantity_kg == Decimal("-0.750") and loss.reason == "运输途中破袋"
    assert lot_on_hand(facility_id=c.station.pk, lot_ids=[a.pk])[a.pk] == Decimal("9.250")
    _balanced()


def test_a_shortfall_without_a_reason_is_refused_and_nothing_is_written():
    c = chain()
    a = c.intake(weight_kg="10")
    shipment = shipment_dispatch(origin=c.point, lines=[(a, "10")], author=c.point_staff)
    line = shipment.lines.get()
    with pytest.raises(ReceiptRefused) as info:
        shipment_receive(shipment=shipment, received={line.pk: "9"}, loss_reasons={line.pk: "  "}, author=c.station_staff)
    assert "原因" in info.value.problems[0]
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.DISPATCHED
    assert not LotMovement.objects.filter(kind__in=[MovementKind.RECEIVE, MovementKind.LOSS]).exists()


def test_receiving_more_than_was_dispatched_is_refused():
    c = chain()
    a = c.intake(weight_kg="10")
    shipment = shipment_dispatch(origin=c.point, lines=[(a, "10")], author=c.point_staff)
    line = shipment.lines.get()
    with pytest.raises(ReceiptRefused):
        shipment_receive(shipment=shipment, received={line.pk: "10.001"}, author=c.station_staff)
    assert ShipmentLine.objects.get().received is None


def test_only_destination_staff_or_county_office_receive():
    c = chain()
    a = c.intake(weight_kg="10")
    shipment = shipment_dispatch(origin=c.point, lines=[(a, "10")], author=c.point_staff)
    for user in (c.point_staff, c.shop_staff, c.other_point_staff):
        with pytest.raises(NotAllowed):
            shipment_receive(shipment=shipment, received={}, author=user)
    shipment_receive(shipment=shipment, received={}, author=c.county)


def test_a_shipment_is_received_once():
    c = chain()
    a = c.intake(weight_kg="10")
    shipment = c.ship_to_station([(a, "10")])
    with pytest.raises(ShipmentAlreadyReceived):
        shipment_receive(shipment=shipment, received={}, author=c.station_staff)
    assert LotMovement.objects.filter(kind=MovementKind.RECEIVE).count() == 1


def test_in_transit_lots_balance_before_receipt():
    c = chain()
    a = c.intake(weight_kg="10")
    shipment_dispatch(origin=c.point, lines=[(a, "7")], author=c.point_staff)
    _balanced()


def _batch_at_station(c, units=8):
    lots = c.lots_at_station(2, weight_kg="10")
    return c.pack([(lots[0], "10"), (lots[1], "10")], units=units, waste_kg=str(20 - units * 2.5))


def test_batches_ship_from_station_to_supermarket_with_loss_in_units():
    c = chain()
    batch = _batch_at_station(c)
    batch_inspect(batch=batch, passed=True, inspector=c.county)
    shipment = shipment_dispatch(origin=c.station, lines=[(batch, 6)], author=c.station_staff)
    assert shipment.destination == c.supermarket
    assert BatchStock.objects.get(batch=batch, facility=c.station).quantity == 2
    line = shipment.lines.get()
    with pytest.raises(ReceiptRefused):
        shipment_receive(shipment=shipment, received={line.pk: 7}, author=c.shop_staff)
    with pytest.raises(ReceiptRefused):
        shipment_receive(shipment=shipment, received={line.pk: "5.5"}, loss_reasons={line.pk: "x"}, author=c.shop_staff)
    shipment_receive(shipment=shipment, received={line.pk: 5}, loss_reasons={line.pk: "包装破损"}, author=c.shop_staff)
    assert BatchStock.objects.get(batch=batch, facility=c.supermarket).quantity == 5
    _balanced()


def test_reserved_units_and_held_batches_do_not_ship():
    c = chain()
    batch = _batch_at_station(c)
    stock = BatchStock.objects.get(batch=batch, facility=c.station)
    from logistics.services.stock import batch_stock_reserve

    batch_stock_reserve(stock=stock, units=5, reference_type="order", reference_code="T1")
    with pytest.raises(InsufficientLotStock):
        shipment_dispatch(origin=c.station, lines=[(batch, 4)], author=c.station_staff)
    batch_hold(batch=batch, reason="农残复检", author=c.county)
    with pytest.raises(InsufficientLotStock) as info:
        shipment_dispatch(origin=c.station, lines=[(batch, 1)], author=c.station_staff)
    assert batch.code in info.value.problems[0]


def test_lot_loss_at_a_facility_needs_a_reason_and_stock():
    c = chain()
    a = c.intake(weight_kg="10")
    with pytest.raises(InvalidQuantity):
        lot_loss_record(lot=a, facility=c.point, weight_kg="1", reason="", author=c.point_staff)
    with pytest.raises(InsufficientLotStock):
        lot_loss_record(lot=a, facility=c.point, weight_kg="10.5", reason="霉变", author=c.point_staff)
    with pytest.raises(NotAllowed):
        lot_loss_record(lot=a, facility=c.point, weight_kg="1", reason="霉变", author=c.station_staff)
    lot_loss_record(lot=a, facility=c.point, weight_kg="1.5", reason="霉变", author=c.point_staff)
    assert lot_on_hand(facility_id=c.point.pk, lot_ids=[a.pk])[a.pk] == Decimal("8.500")
    _balanced()


def test_batch_loss_at_a_facility():
    c = chain()
    batch = _batch_at_station(c)
    with pytest.raises(InsufficientStock):
        batch_loss_record(batch=batch, facility=c.station, units=9, reason="压坏", author=c.station_staff)
    batch_loss_record(batch=batch, facility=c.station, units=2, reason="压坏", author=c.station_staff)
    assert BatchStock.objects.get(batch=batch, facility=c.station).quantity == 6
    _balanced()
