"""The watch list's "no love points for months" signal (the county switches it on)."""

from __future__ import annotations

import datetime

from django.db.models import Exists, OuterRef

from households.models import WatchListEntry
from households.reports.watch import register_watch_signal

from .models import LovePointsSettings, PointsEntry


def households_without_points(period_start: datetime.date, period_end: datetime.date) -> list[int]:
    """Households awarded points in the year before the period but none in it (approved awards, net)."""
    if not LovePointsSettings.load().watch_no_points:
        return []
    year_before = datetime.date(period_start.year - 1, period_start.month, 1)
    in_period = PointsEntry.objects.filter(household_id=OuterRef("household_id"), kind=PointsEntry.Kind.AWARD,
                                           month__gte=period_start.replace(day=1), month__lte=period_end, points__gt=0)
    earlier = (
        PointsEntry.objects.filter(kind=PointsEntry.Kind.AWARD, points__gt=0, month__gte=year_before.replace(day=1), month__lt=period_start.replace(day=1))
        .annotate(recent=Exists(in_period)).filter(recent=False)
        .order_by().values_list("household_id", flat=True).distinct()
    )
    return list(earlier)


def register() -> None:
    register_watch_signal(WatchListEntry.Reason.NO_POINTS, households_without_points)
