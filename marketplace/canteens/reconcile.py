"""Canteen reconciliation check (registered with ``reconcile`` from ``CanteensConfig.ready``):
every delivery is one completed canteen-channel sale whose total is its invoice's amount, and
each delivered line's units are the units its sale line took from batches."""

from __future__ import annotations

from django.db.models import F, Sum

from marketplace.models import Order

from .models import CanteenDelivery, CanteenDeliveryLine


def check_canteen_deliveries() -> list[str]:
    problems = []
    for number, total, amount, channel, status in CanteenDelivery.objects.exclude(
        sale__total=F("invoice__amount"), sale__channel=Order.Channel.CANTEEN, sale__status=Order.Status.COMPLETED,
    ).values_list("number", "sale__total", "invoice__amount", "sale__channel", "sale__status"):
        problems.append(f"canteen delivery {number}: sale {channel}/{status} total {total} ≠ invoice {amount}")
    lines = (CanteenDeliveryLine.objects.values("pk", "delivery__number", "units", "sale_line__quantity")
             .annotate(taken=Sum("sale_line__allocations__units")))
    for r in lines:
        if not (r["units"] == r["sale_line__quantity"] == (r["taken"] or 0)):
            problems.append(f"canteen delivery {r['delivery__number']}: line delivered {r['units']}, sold {r['sale_line__quantity']}, "
                            f"taken from batches {r['taken'] or 0}")
    return problems
