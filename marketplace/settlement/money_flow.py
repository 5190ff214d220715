"""The public money flow (钱从哪里来、拨到哪里去): aggregates only, never a person's data.

Where the money comes from: the employees' yearly allocations (granted, spent, refunded) and
what they paid by card or in cash at the counter, by sales channel (online, counter, canteen); where it goes: sales attributed to households, intake payments and
dividends, by township and by month; how many households it reached. Computed by
``money_flow_snapshot_refresh`` (a task: hourly, and after every settlement, intake void and
refund) into a MoneyFlowSnapshot row with its cut-off ``as_of``; the page, the JSON and the home
page read that row, so a public request never runs the aggregates and all three show one set of
figures. ``published_totals`` is the one function that computes them.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import router, transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from core.compiled_query import CompiledModelQuery
from households.models import IncomeEntry, IncomeKind, SalesChannel, Township
from households.reports.selectors import income_published, paid_to_households
from marketplace.models import AllocationEntry, Order, Refund

from .models import MoneyFlowSnapshot

KEEP_SNAPSHOTS = 20
ZERO = Decimal("0.00")


def _s(value) -> str:
    return str((value or ZERO).quantize(Decimal("0.01")))


def as_of_text(as_of: datetime.datetime) -> str:
    """The cut-off in the county's zone with its offset (``2026-12-02T15:20:00+08:00``)."""
    return timezone.localtime(as_of).isoformat(timespec="seconds")


def published_totals(*, as_of: datetime.datetime) -> dict:
    """THE published figures at the cut-off ``as_of``: the allocations, the sales and what reached
    households, from the ledgers as they stood at that instant. The money-flow snapshot (and so
    the page, the JSON and the home page) stores exactly this; ``reconcile`` recomputes it at the
    snapshot's ``as_of`` and compares. Strings of yuan and integer counts.

    Sales count every order paid by ``as_of`` (whatever became of it since) and every refund made
    by then; net = paid − refunded. (Leaving out orders cancelled after payment while subtracting
    their refunds, as before, took them off twice.)"""
    alloc = AllocationEntry.objects.filter(created_at__lte=as_of).aggregate(
        granted=Sum("amount", filter=Q(kind=AllocationEntry.Kind.GRANT)),
        spent=Sum("amount", filter=Q(kind=AllocationEntry.Kind.SPEND)),
        refunded=Sum("amount", filter=Q(kind=AllocationEntry.Kind.REFUND)),
        expired=Sum("amount", filter=Q(kind=AllocationEntry.Kind.EXPIRY)),
    )
    paid = Order.objects.filter(paid_at__isnull=False, paid_at__lte=as_of).aggregate(
        paid_total=Sum("total"), allocation=Sum("allocation_amount"), card=Sum("card_amount"), offline=Sum("offline_amount"),
        orders=Count("id"),
        **{f"paid_{c}": Sum("total", filter=Q(channel=c)) for c in SalesChannel.values},
    )
    refunds = Refund.objects.filter(created_at__lte=as_of).aggregate(
        allocation=Sum("allocation_amount"), card=Sum("card_amount"), offline=Sum("offline_amount"),
        **{f"refunded_{c}": Sum(F("allocation_amount") + F("card_amount") + F("offline_amount"), filter=Q(order__channel=c))
           for c in SalesChannel.values},
    )
    refunded = (refunds["allocation"] or ZERO) + (refunds["card"] or ZERO) + (refunds["offline"] or ZERO)
    income = income_published(as_of=as_of)
    attributed = dict(
        IncomeEntry.objects.filter(created_at__lte=as_of, kind=IncomeKind.SALES).order_by().values("channel")
        .annotate(s=Sum("amount")).values_list("channel", "s")
    )
    channels = {}
    for c in SalesChannel.values:  # online, counter, canteen: what each sold (net) and attributed to households
        channels[f"{c}_net"] = _s((paid[f"paid_{c}"] or ZERO) - (refunds[f"refunded_{c}"] or ZERO))
        channels[f"{c}_attributed"] = _s(attributed.get(c))
    return {
        "as_of": as_of_text(as_of),
        "allocations": {
            "granted": _s(alloc["granted"]),
            "spent": _s(-(alloc["spent"] or ZERO)),
            "refunded": _s(alloc["refunded"]),
            "expired": _s(-(alloc["expired"] or ZERO)),
        },
        "sales": {
            "orders": paid["orders"],
            "total": _s(paid["paid_total"]),
            "from_allocation": _s(paid["allocation"]),
            "by_card": _s(paid["card"]),
            "in_cash": _s(paid["offline"]),
            "refunded": _s(refunded),
            "net": _s((paid["paid_total"] or ZERO) - refunded),
        },
        "households": {
            "reached": income["households"],
            "intake": _s(income["intake"]),
            "sales_attributed": _s(income["sales"]),
            "dividends": _s(income["dividend"]),
            "paid_to_households": _s(income["paid_to_households"]),
        },
        "channels": channels,
    }


def money_flow_compute(*, as_of: datetime.datetime | None = None) -> dict:
    """The published totals at ``as_of`` (default now) and their breakdowns by township and month."""
    as_of = as_of or timezone.now()
    entries = IncomeEntry.objects.filter(created_at__lte=as_of)
    kinds = {k: Sum("amount", filter=Q(kind=k)) for k in IncomeKind.values}
    names = dict(Township.objects.values_list("pk", "name"))
    codes = dict(Township.objects.values_list("pk", "code"))
    by_township = []
    for row in (
        entries.values("household__village__township").annotate(**kinds, households=Count("household", distinct=True))
        .order_by("household__village__township")
    ):
        tid = row["household__village__township"]
        by_township.append({
            "township": names.get(tid, ""), "code": codes.get(tid, ""), "households": row["households"],
            **{k: _s(row[k]) for k in IncomeKind.values},
            "paid_to_households": _s(paid_to_households(row)),
        })
    by_month = [
        {"month": row["month"].strftime("%Y-%m"), **{k: _s(row[k]) for k in IncomeKind.values}}
        for row in entries.annotate(month=TruncMonth("date")).values("month").annotate(**kinds).order_by("month")
    ]
    sold = Order.objects.filter(paid_at__isnull=False, paid_at__lte=as_of)
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
        for row in entries.annotate(month=TruncMonth("date"))
        .values("household__village__township", "month").annotate(**kinds)
        .order_by("household__village__township", "month")
    ]
    return {
        **published_totals(as_of=as_of),
        "computed_at": as_of_text(timezone.now()),
        "by_township": by_township,
        "by_month": by_month,
        "by_township_month": by_township_month,
    }


@transaction.atomic
def money_flow_snapshot_refresh() -> MoneyFlowSnapshot:
    as_of = timezone.now()
    snapshot = MoneyFlowSnapshot.objects.create(as_of=as_of, data=money_flow_compute(as_of=as_of))
    stale = list(MoneyFlowSnapshot.objects.order_by("-as_of", "-id").values_list("pk", flat=True)[KEEP_SNAPSHOTS:])
    if stale:
        MoneyFlowSnapshot.objects.filter(pk__in=stale).delete()
    return snapshot


# read on every uncached home page: compiled once rather than built by the ORM each time
_latest_snapshot = CompiledModelQuery(lambda: MoneyFlowSnapshot.objects.order_by("-as_of", "-id")[:1])


def money_flow_snapshot_latest() -> MoneyFlowSnapshot | None:
    return next(iter(_latest_snapshot(using=router.db_for_read(MoneyFlowSnapshot))), None)


def money_flow_latest() -> dict:
    """The latest snapshot's figures; before the first snapshot, the figures computed now (not
    stored: a read does not write — the refresh task and the demo seed store snapshots)."""
    snapshot = money_flow_snapshot_latest()
    return snapshot.data if snapshot is not None else money_flow_compute()


def money_flow_refresh_soon() -> None:
    """Refresh the snapshot once the current transaction commits: after a settlement, an intake
    void or a refund the published figures follow at once rather than at the next hourly refresh.
    Each request carries its time; a refresh finding a snapshot at least that recent skips, so a
    burst of requests computes once."""
    from .tasks import money_flow_refresh_task

    transaction.on_commit(lambda: money_flow_refresh_task.delay(requested_at=timezone.now().isoformat()))


def money_flow_refresh_if_older(*, requested_at: datetime.datetime | None) -> MoneyFlowSnapshot | None:
    """A new snapshot unless one was taken at or after ``requested_at`` (then None)."""
    if requested_at is not None and MoneyFlowSnapshot.objects.filter(as_of__gte=requested_at).exists():
        return None
    return money_flow_snapshot_refresh()


def published_snapshot_mismatches() -> list[str]:
    """``reconcile``: the latest published snapshot equals the ledgers at its ``as_of``."""
    snapshot = money_flow_snapshot_latest()
    if snapshot is None:
        return []
    now = published_totals(as_of=snapshot.as_of)
    problems = []
    for section in ("allocations", "sales", "households", "channels"):
        for key, value in now[section].items():
            shown = snapshot.data.get(section, {}).get(key)
            if str(shown) != str(value):
                problems.append(f"money-flow snapshot of {now['as_of']}: {section}.{key} published {shown}, ledger {value}")
    return problems
