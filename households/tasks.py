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


@shared_task
def income_report_warm_task() -> int:
    """Compute the county income report's default view into the cache (it is keyed by the ledger's
    version, so this is only work when the ledger has grown since)."""
    from .reports import selectors

    selectors.income_report()
    selectors.income_by_month()
    return len(selectors.income_by_produce())


BEAT_SCHEDULE = {
    "households-income-report-warm": {
        "task": "households.tasks.income_report_warm_task",
        "schedule": crontab(minute="*/10"),
    },
    "households-watch-list-monthly": {
        "task": "households.tasks.watch_list_monthly_task",
        "schedule": crontab(day_of_month=1, hour=3, minute=0),
    },
}


def registry_size() -> int:
    """How many households the registry holds: the figure a worker's health check reports."""
    from .models import Household

    return Household.objects.count()


# core.tasks.health_check reports these (core imports no app, so each app names its own).
HEALTH_FIGURES = {"households": registry_size}
