"""Periodic work of households: the monthly watch list (收入下降户)."""

from __future__ import annotations

from celery import shared_task
from celery.schedules import crontab


@shared_task
def watch_list_monthly_task() -> int:
    """Compute the watch list for the last complete months; safe to run twice (one entry per
    household and period)."""
    from .reports.watch import watch_list_compute

    return len(watch_list_compute())


BEAT_SCHEDULE = {
    "households-watch-list-monthly": {
        "task": "households.tasks.watch_list_monthly_task",
        "schedule": crontab(day_of_month=1, hour=3, minute=0),
    },
}
