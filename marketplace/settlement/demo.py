"""Demo: settle the demo county's sales (idempotent: a second run adds nothing) and refresh the
public money flow."""

from __future__ import annotations

from .money_flow import money_flow_snapshot_refresh
from .services import settlement_run


def seed(*, households: int, stdout, context: dict) -> dict:
    run = settlement_run(author=(context.get("users") or {}).get("county"))
    money_flow_snapshot_refresh()
    stdout.write(f"settlement {run.code}: {run.lines_written} lines, sales {run.sales_amount}, dividends {run.dividend_amount}")
    return {"settlement_run": run}
