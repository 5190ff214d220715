"""A real Celery worker killed with SIGKILL half-way through a settlement, started again, ends
with exactly the same ledger as an uninterrupted run (PostgreSQL + Redis, .ci/run)."""

from __future__ import annotations

import signal
import time

import pytest
from django.db import connection

from households.models import IncomeEntry
from marketplace.settlement.models import DividendLine, Payout, SettlementLine, SettlementRun
from marketplace.settlement.services import settlement_run
from marketplace.settlement.tasks import settlement_run_task
from tests.households.factories import HouseholdFactory
from tests.marketplace.settlement_factories import allocation_year, employee, packed_batch, refund, sold_order

pytestmark = pytest.mark.celery_worker


def ledger_snapshot() -> list[tuple]:
    """The ledger without what legitimately differs between two runs (ids, run code, timestamps)."""
    rows = IncomeEntry.objects.values_list("household_id", "kind", "amount", "date", "produce", "source_type", "source_code",
                                           "source_detail", "reason")
    out = []
    for hh, kind, amount, date, produce, stype, scode, detail, reason in rows:
        detail = {k: v for k, v in detail.items() if k not in ("run", "line")}
        out.append((hh, kind, amount, date, produce, stype, scode if stype != "dividend" else "", sorted(detail.items()), reason))
    return sorted(out, key=repr)


def wipe_settlement() -> None:
    """Forget a settlement entirely (raw SQL: the ledger refuses deletes through the ORM)."""
    with connection.cursor() as cursor:
        for model in (IncomeEntry, Payout, DividendLine, SettlementLine, SettlementRun):
            if model is IncomeEntry:
                cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE source_type IN ('sale', 'refund', 'dividend')")
            else:
                cursor.execute(f"DELETE FROM {model._meta.db_table}")


def test_a_worker_killed_mid_run_and_restarted_leaves_the_ledger_of_an_uninterrupted_run(celery_worker_process, on_postgres):
    allocation_year(rate="0.0700")
    households = [HouseholdFactory() for _ in range(7)]
    batches = [
        packed_batch({households[i % 7]: "1.250", households[(i + 2) % 7]: "3.333", households[(i + 5) % 7]: "0.417"})
        for i in range(6)
    ]
    buyer = employee()
    for i in range(120):  # 720 order lines: 720 one-line chunks, seconds of work to kill into
        order = sold_order([(batches[(i + k) % 6], 1 + (i + k) % 4) for k in range(6)], unit_price="12.34", buyer=buyer)
        if i % 5 == 0:
            line = order.lines.first()
            refund(line, line.allocations.get().batch, 1)

    settlement_run(chunk_size=1)  # uninterrupted, in this process
    uninterrupted = ledger_snapshot()
    assert uninterrupted
    wipe_settlement()

    worker = celery_worker_process()
    settlement_run_task.delay(chunk_size=1)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run = SettlementRun.objects.first()
        if run is not None and run.chunks_done >= 20:
            break
        time.sleep(0.01)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    run = SettlementRun.objects.get()
    assert run.status == SettlementRun.Status.RUNNING, "the worker finished before it could be killed"
    assert 0 < IncomeEntry.objects.filter(source_type="sale").count()

    celery_worker_process()
    result = settlement_run_task.delay(chunk_size=1).get(timeout=120)

    assert result["status"] == SettlementRun.Status.COMPLETED
    assert SettlementRun.objects.count() == 1
    assert ledger_snapshot() == uninterrupted
