"""Celery tasks of the supply chain."""

from celery import shared_task
from celery.schedules import crontab


@shared_task
def batches_write_off_expired_task() -> int:
    """Write off every unit past its best-before date that no order holds (a daily sweep; a
    second run the same day writes nothing)."""
    from .services.stock import batches_write_off_expired

    return batches_write_off_expired()


BEAT_SCHEDULE = {
    "logistics-batches-write-off-expired": {
        "task": "logistics.tasks.batches_write_off_expired_task",
        # 00:10 county time (the beat runs in settings.TIME_ZONE): just after the day a batch
        # went out of date, before the supermarket opens
        "schedule": crontab(minute=10, hour=0),
    },
}
