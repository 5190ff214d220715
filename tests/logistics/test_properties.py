"""Property: whatever sequence of intakes, voids, shipments (with losses), facility losses and
packing runs the services accept or refuse, the books always reconcile."""

from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import DomainError
from logistics.models import BatchStock, LotMovement, Shipment
from logistics.reconcile import run_checks
from logistics.selectors.lots import lot_on_hand
from logistics.services.batches import batch_inspect
from logistics.services.intake import intake_void
from logistics.services.shipments import batch_loss_record, lot_loss_record, shipment_dispatch, shipment_receive
from tests.logistics.chain_factories import chain

weights = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("40"), places=1)
fractions = st.sampled_from([Decimal("0"), Decimal("0.25"), Decimal("0.5"), Decimal("1"), Decimal("1.2")])
ops = st.one_of(
    st.tuples(st.just("intake"), st.integers(0, 2), weights),
    st.tuples(st.just("void"), st.integers(0, 50)),
    st.tuples(st.just("dispatch"), st.lists(st.tuples(st.integers(0, 50), fractions), min_size=1, max_size=4)),
    st.tuples(st.just("receive"), st.integers(0, 10), fractions),
    st.tuples(st.just("loss"), st.integers(0, 50), fractions),
    st.tuples(st.just("pack"), st.lists(st.integers(0, 50), min_size=1, max_size=4), st.integers(0, 3)),
    st.tuples(st.just("ship_batch"), st.integers(0, 10), fractions, fractions),
    st.tuples(st.just("batch_loss"), st.integers(0, 10), st.integers(1, 3)),
)


def _apply(c, state, op):
    kind = op[0]
    lots, intakes, batches = state["lots"], state["intakes"], state["batches"]
    if kind == "intake":
        lot = c.intake(c.households[op[1]], weight_kg=op[2])
        lots.append(lot)
        intakes.append(lot.intake)
    elif kind == "void" and intakes:
        intake_void(intake=intakes[op[1] % len(intakes)], reason="称错", author=c.point_staff)
    elif kind == "dispatch" and lots:
        lines = []
        for i, frac in op[1]:
            lot = lots[i % len(lots)]
            have = lot_on_hand(facility_id=c.point.pk, lot_ids=[lot.pk])[lot.pk]
            lines.append((lot, (have * frac).quantize(Decimal("0.001")) or Decimal("0.1")))
        shipment_dispatch(origin=c.point, lines=lines, author=c.point_staff)
    elif kind == "receive":
        open_ = list(Shipment.objects.filter(status=Shipment.Status.DISPATCHED).order_by("pk"))
        if open_:
            s = open_[op[1] % len(open_)]
            staff = c.station_staff if s.destination_id == c.station.pk else c.shop_staff
            received, reasons = {}, {}
            for line in s.lines.all():
                q = (line.dispatched * min(op[2], Decimal(1))).quantize(Decimal("0.001") if line.lot_id else Decimal("1"))
                received[line.pk], reasons[line.pk] = q, "路损"
            shipment_receive(shipment=s, received=received, loss_reasons=reasons, author=staff)
    elif kind == "loss" and lots:
        lot = lots[op[1] % len(lots)]
        for facility, staff in ((c.point, c.point_staff), (c.station, c.station_staff)):
            have = lot_on_hand(facility_id=facility.pk, lot_ids=[lot.pk])[lot.pk]
            if have > 0:
                lot_loss_record(lot=lot, facility=facility, weight_kg=(have * op[2]).quantize(Decimal("0.001")) or "0.001",
                                reason="霉变", author=staff)
                break
    elif kind == "pack" and lots:
        chosen = {lots[i % len(lots)] for i in op[1]}
        have = lot_on_hand(facility_id=c.station.pk, lot_ids=[lot.pk for lot in chosen])
        inputs = [(lot, have[lot.pk]) for lot in chosen if have[lot.pk] > 0]
        if not inputs:
            inputs = [(lot, q) for lot, q in state["station_lots"](c) if q > 0][:2]
        if not inputs:
            return
        total = sum(q for _lot, q in inputs)
        units = max(1, int(total / c.sku.unit_weight_kg) - op[2])
        waste = total - units * c.sku.unit_weight_kg
        batch = c.pack(inputs, units=units, waste_kg=max(waste, Decimal(0)))
        batch_inspect(batch=batch, passed=True, inspector=c.county)
        batches.append(batch)
    elif kind == "ship_batch" and batches:
        batch = batches[op[1] % len(batches)]
        stock = BatchStock.objects.filter(batch=batch, facility=c.station).first()
        units = int(stock.available * op[2]) if stock else 1
        s = shipment_dispatch(origin=c.station, lines=[(batch, max(units, 1))], author=c.station_staff)
        line = s.lines.get()
        got = int(line.dispatched * min(op[3], Decimal(1)))
        shipment_receive(shipment=s, received={line.pk: got}, loss_reasons={line.pk: "破损"}, author=c.shop_staff)
    elif kind == "batch_loss" and batches:
        batch = batches[op[1] % len(batches)]
        batch_loss_record(batch=batch, facility=c.supermarket, units=op[2], reason="过期", author=c.shop_staff)


def _station_lots(c):
    from logistics.selectors.lots import lots_on_hand

    return [(r["lot"], r["on_hand"]) for r in lots_on_hand(facility_id=c.station.pk)]


@pytest.mark.django_db
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sequence=st.lists(ops, min_size=3, max_size=18))
def test_any_sequence_of_supply_chain_operations_reconciles(sequence):
    with transaction.atomic():
        c = chain()
        state = {"lots": [], "intakes": [], "batches": [], "station_lots": _station_lots}
        start = [("intake", 0, Decimal("12")), ("intake", 1, Decimal("7.5")), ("intake", 2, Decimal("20")),
                 ("dispatch", [(0, Decimal("1")), (1, Decimal("1")), (2, Decimal("0.5"))]), ("receive", 0, Decimal("1"))]
        for op in start + sequence:
            try:
                with transaction.atomic():
                    _apply(c, state, op)
            except DomainError:
                pass  # refused: nothing written, and the books must still balance
        problems = {name: found for name, found in run_checks().items() if found}
        assert problems == {}
        assert not LotMovement.objects.filter(quantity_kg=0).exists()
        transaction.set_rollback(True)
