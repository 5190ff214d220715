"""The settlement ledger as a plain Python reference computes it with core.money, for tests to
compare the SQL against: {(household id, order number, batch code, refund line id | None): fen}."""

from __future__ import annotations

from core.money import split_largest_remainder, to_fen
from logistics.models import BatchShare
from marketplace.models import OrderLineBatch, RefundLine
from marketplace.settlement.services import SOLD_STATUSES


def _shares(batch_id: int) -> list[tuple[int, object]]:
    return sorted(BatchShare.objects.filter(batch_id=batch_id).values_list("household_id", "weight_kg"))


def expected_sales_parts(*, refunds: bool = True) -> dict[tuple, int]:
    parts: dict[tuple, int] = {}
    sold = set()
    for olb in OrderLineBatch.objects.select_related("line__order", "batch").filter(line__order__status__in=SOLD_STATUSES):
        shares = _shares(olb.batch_id)
        total = olb.units * to_fen(olb.line.unit_price)
        for (hh, _w), fen in zip(shares, split_largest_remainder(total, [w for _h, w in shares]), strict=True):
            parts[(hh, olb.line.order.number, olb.batch.code, None)] = fen
        sold.add((olb.line_id, olb.batch_id))
    if refunds:
        for rl in RefundLine.objects.select_related("line__order", "batch"):
            if (rl.line_id, rl.batch_id) not in sold:
                continue
            shares = _shares(rl.batch_id)
            for (hh, _w), fen in zip(shares, split_largest_remainder(-to_fen(rl.amount), [w for _h, w in shares]), strict=True):
                parts[(hh, rl.line.order.number, rl.batch.code, rl.pk)] = fen
    return parts


def ledger_sales_parts() -> dict[tuple, int]:
    from households.models import IncomeEntry

    parts: dict[tuple, int] = {}
    for e in IncomeEntry.objects.filter(kind="sales", source_type__in=["sale", "refund"]):
        key = (e.household_id, e.source_code, e.source_detail["batch"], e.source_detail.get("refund_line"))
        assert key not in parts, f"two ledger entries for {key}"
        parts[key] = to_fen(e.amount)
    return parts
