"""The public money flow (钱从哪里来、拨到哪里去): aggregates only, never a person's data.

Where the money comes from: the employees' yearly allocations (granted, spent, refunded) and
what they paid by card; where it goes: sales attributed to households, intake payments and
dividends, by township and by month; how many households it reached. Computed by
``money_flow_snapshot_refresh`` (a task) into a MoneyFlowSnapshot row that the page and the
JSON read, so a public request never runs the aggregates.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from households.models import IncomeEntry, IncomeKind, Township
from marketplace.models import AllocationEntry, Order, Refund

from .models import MoneyFlowSnapshot

KEEP_SNAPSHOTS = 20
ZERO = Decimal("0.00")


def _s(value) -> str:
    return str((value or ZERO).quantize(Decimal("0.01")))


def money_flow_compute() -> dict:
    """The figures, as JSON-ready strings of yuan and integer counts."""
    alloc = AllocationEntry.objects.aggregate(
        granted=Sum("amount", filter=Q(kind=AllocationEntry.Kind.GRANT)),
        spent=Sum("amount", filter=Q(kind=AllocationEntry.Kind.SPEND)),
        refunded=Sum("amount", filter=Q(kind=AllocationEntry.Kind.REFUND)),
        expired=Sum("amount", filter=Q(kind=AllocationEntry.Kind.EXPIRY)),
    )
    sold = Order.objects.exclude(paid_at__isnull=True).exclude(status__in=[Order.Status.CANCELLED, Order.Status.PENDING_PAYMENT])
    paid = sold.aggregate(total=Sum("total"), allocation=Sum("allocation_amount"), card=Sum("card_amount"), orders=Count("id"))
    refunds = Refund.objects.aggregate(allocation=Sum("allocation_amount"), card=Sum("card_amount"))
    refunded = (refunds["allocation"] or ZERO) + (refunds["card"] or ZERO)

    kinds = {k: Sum("amount", filter=Q(kind=k)) for k in IncomeKind.values}
    totals = IncomeEntry.objects.aggregate(**kinds, households=Count("household", distinct=True))
    names = dict(Township.objects.values_list("pk", "name"))
    codes = dict(Township.objects.values_list("pk", "code"))
    by_township = []
    for row in (
        IncomeEntry.objects.values("household__village__township").annotate(**kinds, households=Count("household", distinct=True))
        .order_by("household__village__township")
    ):
        tid = row["household__village__township"]
        by_township.append({
            "township": names.get(tid, ""), "code": codes.get(tid, ""), "households": row["households"],
            **{k: _s(row[k]) for k in IncomeKind.values},
        })
    by_month = [
        {"month": row["month"].strftime("%Y-%m"), **{k: _s(row[k]) for k in IncomeKind.values}}
        for row in IncomeEntry.objects.annotate(month=TruncMonth("date")).values("month").annotate(**kinds).order_by("month")
    ]
    sales_by_month = {
        row["month"].strftime("%Y-%m"): row["s"]
        for row in sold.annotate(month=TruncMonth("paid_at")).values("month").annotate(s=Sum("total")).order_by("month")
        if row["month"]
    }
    for m in by_month:
        m["orders_total"] = _s(sales_by_month.pop(m["month"], ZERO))
    for month, total in sales_by_month.items():
        by_month.append({"month": month, **{k: _s(ZERO) for k in IncomeKind.values}, "orders_total": _s(total)})
    by_month.sort(key=lambda m: m["month"])
    by_township_month = [
        {"township": names.get(row["household__village__township"], ""), "month": row["month"].strftime("%Y-%m"),
         **{k: _s(row[k]) for k in IncomeKind.values}}
        for row in IncomeEntry.objects.annotate(month=TruncMonth("date"))
        .values("household__village__township", "month").annotate(**kinds)
        .order_by("household__village__township", "month")
    ]
    paid_to_households = (totals["intake"] or ZERO) + (totals["dividend"] or ZERO)
    return {
        "computed_at": timezone.now().isoformat(),
        "allocations": {
            "granted": _s(alloc["granted"]),
            "spent": _s(-(alloc["spent"] or ZERO)),
            "refunded": _s(alloc["refunded"]),
            "expired": _s(-(alloc["expired"] or ZERO)),
        },
        "sales": {
            "orders": paid["orders"],
            "total": _s(paid["total"]),
            "from_allocation": _s(paid["allocation"]),
            "by_card": _s(paid["card"]),
            "refunded": _s(refunded),
            "net": _s((paid["total"] or ZERO) - refunded),
        },
        "households": {
            "reached": totals["households"],
            "intake": _s(totals["intake"]),
            "sales_attributed": _s(totals["sales"]),
            "dividends": _s(totals["dividend"]),
            "paid_to_households": _s(paid_to_households),
        },
        "by_township": by_township,
        "by_month": by_month,
        "by_township_month": by_township_month,
    }


@transaction.atomic
def money_flow_snapshot_refresh() -> MoneyFlowSnapshot:
    snapshot = MoneyFlowSnapshot.objects.create(data=money_flow_compute())
    stale = list(MoneyFlowSnapshot.objects.order_by("-computed_at", "-id").values_list("pk", flat=True)[KEEP_SNAPSHOTS:])
    if stale:
        MoneyFlowSnapshot.objects.filter(pk__in=stale).delete()
    return snapshot


def money_flow_latest() -> dict:
    """The latest snapshot's figures (computed now if there is none yet)."""
    snapshot = MoneyFlowSnapshot.objects.order_by("-computed_at", "-id").first()
    if snapshot is None:
        snapshot = money_flow_snapshot_refresh()
    return snapshot.data
