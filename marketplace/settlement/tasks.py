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
        run = settlement_run(chunk_size=chunk_size)
    money_flow_refresh_task.delay_on_commit()
    return {"run": run.code, "status": run.status, "lines": run.lines_written}


@shared_task
def money_flow_refresh_task() -> int:
    from .money_flow import money_flow_snapshot_refresh

    return money_flow_snapshot_refresh().pk


BEAT_SCHEDULE = {
    "settlement-nightly": {"task": "marketplace.settlement.tasks.settlement_run_task", "schedule": crontab(hour=2, minute=0)},
    "money-flow-refresh": {"task": "marketplace.settlement.tasks.money_flow_refresh_task", "schedule": crontab(minute=15)},
}
