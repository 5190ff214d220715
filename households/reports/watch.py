"""The watch list (收入下降户): households whose channel income in a period fell by more than a
set share against the same period a year before, or who stopped delivering (no intake entries
in the period though they had some a year before). One aggregate query over the ledger."""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Callable, Iterable
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum

from ..models import IncomeEntry, IncomeKind, WatchListEntry
from .services import households_flag_income_decline

ZERO = Decimal("0.00")


# Signals other apps add to the watch list (love points: "no points for the period"), each a
# ``fn(period_start, period_end) -> iterable of household ids`` with the reason it stands for.
# Households never imports those apps; they register here from their AppConfig.ready().
_SIGNALS: dict[str, Callable[[datetime.date, datetime.date], Iterable[int]]] = {}


def register_watch_signal(reason: str, fn: Callable[[datetime.date, datetime.date], Iterable[int]]) -> None:
    _SIGNALS[reason] = fn


def decline_share() -> Decimal:
    return Decimal(str(getattr(settings, "RELIEF_WATCH_DECLINE_SHARE", "0.30")))


def period_months() -> int:
    return int(getattr(settings, "RELIEF_WATCH_PERIOD_MONTHS", 3))


def _year_before(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def last_complete_months(today: datetime.date, months: int) -> tuple[datetime.date, datetime.date]:
    """The ``months`` whole calendar months before ``today``'s month."""
    end = today.replace(day=1) - datetime.timedelta(days=1)
    y, m = end.year, end.month - months + 1
    while m <= 0:
        m += 12
        y -= 1
    return datetime.date(y, m, 1), end


def watch_list_candidates(*, period_start: datetime.date, period_end: datetime.date, share: Decimal | None = None) -> list[dict]:
    """Households meeting the rule in the period, with the evidence."""
    share = decline_share() if share is None else share
    prior_start, prior_end = _year_before(period_start), _year_before(period_end)
    now = Q(date__gte=period_start, date__lte=period_end)
    before = Q(date__gte=prior_start, date__lte=prior_end)
    rows = (
        IncomeEntry.objects.filter(now | before).order_by().values("household_id")
        .annotate(
            income=Sum("amount", filter=now), income_before=Sum("amount", filter=before),
            # Net of voids (a voided intake leaves a reversing entry): deliveries that stood.
            intakes=Sum("amount", filter=now & Q(kind=IncomeKind.INTAKE)),
            intakes_before=Sum("amount", filter=before & Q(kind=IncomeKind.INTAKE)),
        )
        .filter(income_before__gt=0)
    )
    found = []
    for row in rows:
        income, prior = row["income"] or ZERO, row["income_before"] or ZERO
        drop = (prior - income) / prior if prior > 0 else None
        if (row["intakes_before"] or ZERO) > 0 and (row["intakes"] or ZERO) <= 0:
            reason = WatchListEntry.Reason.STOPPED
        elif drop is not None and drop > share:
            reason = WatchListEntry.Reason.DECLINE
        else:
            continue
        found.append({
            "household_id": row["household_id"], "reason": reason, "income": income, "income_year_before": prior,
            "drop_share": drop.quantize(Decimal("0.0001")) if drop is not None else None,
        })
    return found


@transaction.atomic
def watch_list_compute(*, today: datetime.date | None = None, period_start: datetime.date | None = None,
                       period_end: datetime.date | None = None) -> list[WatchListEntry]:
    """Write the period's watch-list entries (once per household and period) and flag the households."""
    if period_start is None or period_end is None:
        period_start, period_end = last_complete_months(today or datetime.date.today(), period_months())
    found = watch_list_candidates(period_start=period_start, period_end=period_end)
    found += _signalled(period_start=period_start, period_end=period_end, already={f["household_id"] for f in found})
    entries = [WatchListEntry(period_start=period_start, period_end=period_end, **f) for f in found]
    WatchListEntry.objects.bulk_create(entries, batch_size=2000, ignore_conflicts=True)
    households_flag_income_decline(household_ids=[f["household_id"] for f in found])
    return list(WatchListEntry.objects.filter(period_start=period_start, period_end=period_end))


def _signalled(*, period_start: datetime.date, period_end: datetime.date, already: set[int]) -> list[dict]:
    """Households a registered signal names (and the rule above did not), with their income in the
    period and a year before as the evidence beside the reason."""
    named: dict[int, str] = {}
    for reason, fn in _SIGNALS.items():
        for household_id in fn(period_start, period_end):
            if household_id not in already:
                named.setdefault(household_id, reason)
    if not named:
        return []
    prior_start, prior_end = _year_before(period_start), _year_before(period_end)
    now = Q(date__gte=period_start, date__lte=period_end)
    before = Q(date__gte=prior_start, date__lte=prior_end)
    sums = {
        r["household_id"]: r for r in IncomeEntry.objects.filter(household_id__in=list(named)).filter(now | before)
        .order_by().values("household_id").annotate(income=Sum("amount", filter=now), income_before=Sum("amount", filter=before))
    }
    return [
        {"household_id": hid, "reason": reason, "income": (sums.get(hid) or {}).get("income") or ZERO,
         "income_year_before": (sums.get(hid) or {}).get("income_before") or ZERO, "drop_share": None}
        for hid, reason in sorted(named.items())
    ]


def month_end(year: int, month: int) -> datetime.date:
    return datetime.date(year, month, calendar.monthrange(year, month)[1])
