"""Settlement and money-flow tasks. A task receives ids, calls one service and is safe to run
twice: settlement resumes the unfinished run (acks are late, so a killed worker's task comes back)."""

from __future__ import annotations

from celery import shared_task
from celery.schedules import crontab


@shared_task(acks_late=True, reject_on_worker_lost=True)
def settlement_run_task(run_id: int | None = None, chunk_size: int | None = None) -> dict:
    """Finish the unfinished settlement run (``run_id`` or whichever is unfinished), or settle
    everything new if there is none."""
    from .models import SettlementRun
    from .services import settlement_run

    if run_id is not None and SettlementRun.objects.filter(pk=run_id, status=SettlementRun.Status.COMPLETED).exists():
        run = SettlementRun.objects.get(pk=run_id)
    else:
        run = settlement_run(chunk_size=chunk_size)  # refreshes the money flow when the run completes
    return {"run": run.code, "status": run.status, "lines": run.lines_written}


@shared_task
def money_flow_refresh_task(requested_at: str | None = None) -> int | None:
    """Refresh the public money-flow snapshot (hourly, and after writes that change it); skipped
    when a snapshot at least as recent as ``requested_at`` exists. Returns the new snapshot's id."""
    from django.utils.dateparse import parse_datetime

    from .money_flow import money_flow_refresh_if_older

    snapshot = money_flow_refresh_if_older(requested_at=parse_datetime(requested_at) if requested_at else None)
    return snapshot.pk if snapshot is not None else None


BEAT_SCHEDULE = {
    "settlement-nightly": {"task": "marketplace.settlement.tasks.settlement_run_task", "schedule": crontab(hour=2, minute=0)},
    "money-flow-refresh": {"task": "marketplace.settlement.tasks.money_flow_refresh_task", "schedule": crontab(minute=15)},
}
