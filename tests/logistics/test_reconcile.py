"""``reconcile``: passes on books written by the services, names each forged imbalance, runs
checks other apps register."""

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from logistics import reconcile
from logistics.models import BatchStock, LotMovement, MovementKind, PackingInput, ShipmentLine
from logistics.services.batches import batch_inspect
from logistics.services.shipments import shipment_dispatch, shipment_receive
from tests.logistics.chain_factories import chain

pytestmark = pytest.mark.django_db


def _books():
    """A chain with lots at a point, in transit, at the station with a loss, packed, shipped on."""
    c = chain()
    c.intake(weight_kg="3")  # stays at the point
    moving = c.intake(weight_kg="4")
    shipment_dispatch(origin=c.point, lines=[(moving, "4")], author=c.point_staff)  # in transit
    a, b = c.intake(weight_kg="10"), c.intake(c.households[1], weight_kg="10")
    shipment = shipment_dispatch(origin=c.point, lines=[(a, "10"), (b, "10")], author=c.point_staff)
    line = shipment.lines.get(lot=b)
    shipment_receive(shipment=shipment, received={line.pk: "9.5"}, loss_reasons={line.pk: "破袋"}, author=c.station_staff)
    batch = c.pack([(a, "10"), (b, "7.5")], units=7)
    batch_inspect(batch=batch, passed=True, inspector=c.county)
    out = shipment_dispatch(origin=c.station, lines=[(batch, 5)], author=c.station_staff)
    shipment_receive(shipment=out, received={out.lines.get().pk: 4}, loss_reasons={out.lines.get().pk: "压坏"}, author=c.shop_staff)
    return c, {"moving": moving, "a": a, "b": b, "batch": batch}


def _run(*args) -> tuple[str, bool]:
    out = io.StringIO()
    try:
        call_command("reconcile", *args, stdout=out)
    except CommandError:
        return out.getvalue(), False
    return out.getvalue(), True


def test_reconcile_passes_on_books_written_by_the_services():
    _books()
    output, ok = _run()
    assert ok, output
    assert "lot_balance" in output and "batch_balance" in output


def test_a_forged_lot_movement_is_named():
    c, x = _books()
    LotMovement.objects.create(lot=x["a"], facility=c.station, kind=MovementKind.ADJUST, quantity_kg=Decimal("1.000"))
    output, ok = _run()
    assert not ok
    assert f"lot {x['a'].code}" in output


def test_negative_on_hand_is_named():
    c, x = _books()
    LotMovement.objects.create(lot=x["moving"], facility=c.station, kind=MovementKind.PACK_CONSUME, quantity_kg=Decimal("-2.000"))
    problems = reconcile.run_checks(["lot_on_hand_not_negative", "facility_balance", "lot_balance"])
    assert any(x["moving"].code in p and "negative" in p for p in problems["lot_on_hand_not_negative"])
    assert any("consumed by packing" in p for p in problems["facility_balance"])
    assert any("packing movements" in p for p in problems["lot_balance"])


def test_a_forged_shipment_line_is_named():
    c, x = _books()
    ShipmentLine.objects.filter(lot=x["moving"]).update(dispatched=Decimal("3.000"))
    problems = reconcile.run_checks(["lot_balance", "facility_balance"])
    assert any(x["moving"].code in p and "ship-out" in p for p in problems["lot_balance"])
    assert any(c.point.code in p and "shipped out" in p for p in problems["facility_balance"])


def test_a_forged_packing_input_is_named():
    c, x = _books()
    PackingInput.objects.filter(lot=x["b"]).update(quantity_kg=Decimal("7.000"))
    problems = reconcile.run_checks(["packing_runs", "lot_balance"])
    assert any(x["batch"].code in p for p in problems["packing_runs"])
    assert any(x["b"].code in p for p in problems["lot_balance"])


def test_a_forged_stock_counter_is_named():
    c, x = _books()
    BatchStock.objects.filter(batch=x["batch"], facility=c.supermarket).update(quantity=5)
    output, ok = _run()
    assert not ok
    assert f"batch {x['batch'].code} at {c.supermarket.code}" in output
    assert "batch_balance" in output


def test_checks_registered_by_other_apps_run_too(monkeypatch):
    import core.reconcile

    monkeypatch.setattr(core.reconcile, "_CHECKS", dict(core.reconcile._CHECKS))

    @reconcile.register_check("other_app_balance")
    def other():
        return ["employee 42: balance 10.00 ≠ grant − spent 12.00"]

    output, ok = _run()
    assert not ok and "employee 42" in output
    output, ok = _run("--check", "lot_balance")
    assert ok


def test_reconcile_runs_a_fixed_number_of_queries_whatever_the_size(django_assert_max_num_queries):
    _books()
    _books()
    with django_assert_max_num_queries(30):  # the cash-sheet check adds a fixed eight, the stock-take check two
        ours = [n for n, fn in reconcile.registered_checks().items() if fn.__module__ == "logistics.reconcile"]
        problems = reconcile.run_checks(ours)
    assert len(ours) == 8
    assert not any(problems.values())
