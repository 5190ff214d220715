"""Consistent sold units for settlement tests, built directly as model rows (no checkout):
a packed batch with its household shares, an order with lines taking units of batches, refunds.
"""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

from django.utils import timezone

from households.models import Household
from logistics.models import BatchShare, PackedBatch, PackingRun
from marketplace.models import (
    AllocationYear,
    Employee,
    Employer,
    Order,
    OrderLine,
    OrderLineBatch,
    Product,
    Refund,
    RefundLine,
)
from tests.households.factories import HouseholdFactory, UserFactory
from tests.logistics.factories import SkuFactory, StationFactory

_seq = itertools.count(1)


def aware(y: int, m: int, d: int, h: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(y, m, d, h, 0))


def allocation_year(year: int = 2026, rate: str = "0.0500") -> AllocationYear:
    obj, _ = AllocationYear.objects.update_or_create(
        year=year,
        defaults={
            "opens_on": datetime.date(year, 1, 1), "closes_on": datetime.date(year, 12, 31), "dividend_rate": Decimal(rate),
        },
    )
    return obj


def packed_batch(shares: dict[Household, Decimal | str] | None = None, *, sku=None, station=None, units: int = 100) -> PackedBatch:
    """A batch of ``units`` whose household shares are ``shares`` (household -> kg)."""
    n = next(_seq)
    sku = sku or SkuFactory(code="SKU-SETTLE", produce__code="chestnut")
    station = station or StationFactory()
    user = UserFactory(username="packer")
    run = PackingRun.objects.create(code=f"PR-T{n:06d}", station=station, sku=sku, created_by=user)
    batch = PackedBatch.objects.create(
        code=f"PB-T{n:06d}", sku=sku, station=station, packing_run=run, units=units, unit_weight_kg=sku.unit_weight_kg,
        best_before=datetime.date(2027, 12, 31), packed_at=timezone.now(), inspection_status=PackedBatch.Inspection.PASSED,
    )
    if shares is None:
        shares = {HouseholdFactory(): Decimal("10.000")}
    BatchShare.objects.bulk_create(
        [BatchShare(batch=batch, household=h, weight_kg=Decimal(str(w))) for h, w in shares.items()]
    )
    return batch


def product_for(batch: PackedBatch, price: Decimal | str = "50.00") -> Product:
    product, _ = Product.objects.get_or_create(sku=batch.sku, defaults={"name": batch.sku.name, "price": Decimal(str(price))})
    return product


def employee() -> Employee:
    employer, _ = Employer.objects.get_or_create(code="E-TEST", defaults={"name": "县测试局"})
    n = next(_seq)
    user = UserFactory(username=f"emp{n}")
    return Employee.objects.create(user=user, employer=employer, staff_number=f"S{n:05d}", name=f"职工{n}")


def sold_order(
    lines: list[tuple[PackedBatch, int] | list[tuple[PackedBatch, int]]],
    *,
    unit_price: Decimal | str = "50.00",
    paid_at: datetime.datetime | None = None,
    status: str = Order.Status.PAID,
    year: int = 2026,
    buyer: Employee | None = None,
    channel: str = Order.Channel.ONLINE,
) -> Order:
    """An order paid at ``paid_at``; each element of ``lines`` is one order line, taking units
    of one batch ``(batch, units)`` or of several ``[(batch, units), ...]``, at ``unit_price``."""
    price = Decimal(str(unit_price))
    takes = [entry if isinstance(entry, list) else [entry] for entry in lines]
    total = sum((price * sum(u for _b, u in t) for t in takes), Decimal("0.00"))
    n = next(_seq)
    # All from the allocation (online) or all in cash (a counter sale or canteen delivery without
    # a buyer): SQLite checks allocation + card + offline = total in floating point.
    online = channel == Order.Channel.ONLINE
    buyer = buyer or (employee() if online else None)
    allocation = total if buyer is not None else Decimal("0.00")
    order = Order.objects.create(
        number=f"T{year}{n:08d}", channel=channel, employee=buyer, status=status, year=year, total=total,
        allocation_amount=allocation, card_amount=Decimal("0.00"), offline_amount=total - allocation,
        paid_at=paid_at if paid_at is not None else timezone.now() - datetime.timedelta(hours=1),
    )
    for take in takes:
        qty = sum(u for _b, u in take)
        line = OrderLine.objects.create(
            order=order, product=product_for(take[0][0], price), quantity=qty, unit_price=price, line_total=price * qty
        )
        OrderLineBatch.objects.bulk_create([OrderLineBatch(line=line, batch=b, units=u) for b, u in take])
    return order


def refund(line: OrderLine, batch: PackedBatch, units: int, *, amount: Decimal | str | None = None, at=None) -> RefundLine:
    """Refund ``units`` of ``line`` that came from ``batch`` (default amount: units × price)."""
    value = Decimal(str(amount)) if amount is not None else line.unit_price * units
    rf = Refund.objects.create(order=line.order, allocation_amount=value, reason="退货")
    if at is not None:
        Refund.objects.filter(pk=rf.pk).update(created_at=at)
    return RefundLine.objects.create(refund=rf, line=line, batch=batch, units=units, amount=value)
