"""Kilograms of lots on hand at a facility, derived from the LotMovement ledger."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Max, Min, Sum

from ..models import Lot, LotMovement


def lot_on_hand(*, facility_id: int, lot_ids: Iterable[int]) -> dict[int, Decimal]:
    """{lot id: kg on hand at the facility} for the given lots (0 where nothing is there)."""
    ids = list(lot_ids)
    rows = (
        LotMovement.objects.filter(facility_id=facility_id, lot_id__in=ids)
        .values("lot_id")
        .annotate(total=Sum("quantity_kg"))
        .values_list("lot_id", "total")
    )
    found = {lot_id: Decimal(total or 0) for lot_id, total in rows}
    return {i: found.get(i, Decimal("0")) for i in ids}


def lots_on_hand(*, facility_id: int, produce_id: int | None = None, grade_id: int | None = None) -> list[dict]:
    """Every lot with kg on hand at the facility, oldest first: what a dispatch or packing form offers."""
    qs = LotMovement.objects.filter(facility_id=facility_id)
    if produce_id:
        qs = qs.filter(lot__grade__produce_id=produce_id)
    if grade_id:
        qs = qs.filter(lot__grade_id=grade_id)
    rows = (
        qs.values("lot_id")
        .annotate(on_hand=Sum("quantity_kg"), first=Min("created_at"), last=Max("created_at"))
        .filter(on_hand__gt=0)
        .order_by("first", "lot_id")
    )
    rows = list(rows)
    lots = Lot.objects.select_related("grade__produce").in_bulk([r["lot_id"] for r in rows])
    return [{"lot": lots[r["lot_id"]], "on_hand": Decimal(r["on_hand"])} for r in rows]
