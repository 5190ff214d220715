"""Reads of canteen records: progress against the reserved share, and the lists the pages show.

Progress of a canteen for a year: ``required`` = budget × reserved share, ``purchased`` = every
delivery of that year (county calendar, Asia/Shanghai) whether its invoice is paid or not — the
produce was bought when it was delivered — and ``share_of_budget`` = purchased ÷ budget, in
percent to two places. Per employer the same over its canteens.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, Sum
from django.utils import timezone

from core.money import yuan

from .models import Canteen, CanteenBudget, CanteenInvoice


def _year_bounds(year: int) -> tuple[datetime.datetime, datetime.datetime]:
    tz = timezone.get_current_timezone()
    return (datetime.datetime(year, 1, 1, tzinfo=tz), datetime.datetime(year + 1, 1, 1, tzinfo=tz))


def _percent(part: Decimal, whole: Decimal) -> Decimal:
    if not whole:
        return Decimal("0.00")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def canteen_progress(*, canteens, year: int) -> list[dict]:
    """One row per canteen of ``canteens`` (a queryset already scoped), ranked: the furthest
    along towards its required share first."""
    start, end = _year_bounds(year)
    budgets = {b.canteen_id: b for b in CanteenBudget.objects.filter(year=year, canteen__in=canteens)}
    sums = {
        r["delivery__order__canteen_id"]: r
        for r in CanteenInvoice.objects.filter(delivery__order__canteen__in=canteens, delivery__delivered_at__gte=start,
                                               delivery__delivered_at__lt=end)
        .values("delivery__order__canteen_id")
        .annotate(total=Sum("amount"), paid=Sum("amount", filter=Q(paid_at__isnull=False)))
    }
    rows = []
    for canteen in canteens.select_related("employer").order_by("pk"):
        b = budgets.get(canteen.pk)
        budget = b.budget if b else Decimal("0.00")
        share = b.reserved_share if b else Decimal("0.00")
        required = yuan(budget * share / 100)
        s = sums.get(canteen.pk, {})
        purchased = yuan(s.get("total") or 0)
        paid = yuan(s.get("paid") or 0)
        rows.append({
            "canteen": canteen, "canteen_name": canteen.name, "employer": canteen.employer, "employer_name": canteen.employer.name,
            "year": year, "budget": yuan(budget), "reserved_share": share, "required": required, "purchased": purchased,
            "paid": paid, "unpaid": purchased - paid, "share_of_budget": _percent(purchased, budget),
            "of_required": _percent(purchased, required),
        })
    rows.sort(key=lambda r: (-r["of_required"], -r["purchased"], r["canteen_name"]))
    for i, r in enumerate(rows, 1):
        r["rank"] = i
    return rows


def employer_progress(rows: list[dict]) -> list[dict]:
    """Canteen rows summed per employer, ranked the same way."""
    by: dict[int, dict] = {}
    for r in rows:
        e = by.setdefault(r["employer"].pk, {"employer": r["employer"], "employer_name": r["employer_name"], "year": r["year"],
                                             "budget": Decimal("0.00"), "required": Decimal("0.00"), "purchased": Decimal("0.00"),
                                             "paid": Decimal("0.00"), "canteens": 0})
        for k in ("budget", "required", "purchased", "paid"):
            e[k] += r[k]
        e["canteens"] += 1
    out = list(by.values())
    for e in out:
        e["unpaid"] = e["purchased"] - e["paid"]
        e["share_of_budget"] = _percent(e["purchased"], e["budget"])
        e["of_required"] = _percent(e["purchased"], e["required"])
    out.sort(key=lambda e: (-e["of_required"], -e["purchased"], e["employer_name"]))
    for i, e in enumerate(out, 1):
        e["rank"] = i
    return out


def canteens_for_progress(user):
    from .access import canteens_visible_to

    return canteens_visible_to(user).filter(active=True) if canteens_visible_to.applies_to(user) else Canteen.objects.none()
