"""Reads of love points: a household's card, a village's month and board, the county's report,
the public totals per township. Each takes the user's scope from ``access`` where it has a user."""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from households.models import Household, Village

from . import access
from .models import Award, Category, GoodsItem, PointsAccount, PointsEntry, Redemption, RedemptionLine, ReviewMonth


def _months_back(last: datetime.date, n: int) -> list[datetime.date]:
    months, y, m = [], last.year, last.month
    for _i in range(n):
        months.append(datetime.date(y, m, 1))
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    return list(reversed(months))


def household_points(household: Household, *, today: datetime.date | None = None) -> dict:
    """Earned, redeemed and balance, and the last 12 months (approved awards, redemptions)."""
    account = PointsAccount.objects.filter(household=household).first()
    from .services import county_today

    months = _months_back((today or county_today()).replace(day=1), 12)
    rows = (
        PointsEntry.objects.filter(household=household, month__gte=months[0]).values("month")
        .annotate(awarded=Coalesce(Sum("points", filter=Q(kind=PointsEntry.Kind.AWARD)), 0),
                  redeemed=Coalesce(Sum("points", filter=Q(kind=PointsEntry.Kind.REDEMPTION)), 0))
    )
    by_month = {r["month"]: r for r in rows}
    return {
        "earned": account.earned if account else 0,
        "redeemed": account.redeemed if account else 0,
        "balance": account.balance if account else 0,
        "months": [
            {"month": m.strftime("%Y-%m"), "awarded": by_month.get(m, {}).get("awarded", 0),
             "redeemed": -by_month.get(m, {}).get("redeemed", 0)}
            for m in months
        ],
    }


def household_history(household: Household, *, limit: int = 50) -> list[PointsEntry]:
    return list(
        PointsEntry.objects.filter(household=household)
        .select_related("award__category", "redemption")
        .prefetch_related("redemption__lines__item")
        .order_by("-id")[:limit]
    )


def balances_for(household_ids) -> dict[int, int]:
    return dict(PointsAccount.objects.filter(household_id__in=list(household_ids)).values_list("household_id", "balance"))


def review_sheet(*, review: ReviewMonth | None, village: Village, month: datetime.date, rule_set) -> dict:
    """The month's entry list: every household of the village with the categories awarded (net)."""
    households = list(Household.objects.filter(village=village).order_by("number").only("pk", "number", "head_name"))
    categories = list(Category.objects.filter(rule_set=rule_set).order_by("position", "code")) if rule_set else []
    awarded: dict[int, dict[int, int]] = defaultdict(dict)
    notes: dict[int, str] = {}
    if review is not None:
        for row in Award.objects.filter(review=review).values("household_id", "category_id").annotate(net=Sum("points")):
            if row["net"]:
                awarded[row["household_id"]][row["category_id"]] = row["net"]
        for hid, note in Award.objects.filter(review=review, reverses__isnull=True).exclude(note="").order_by("id").values_list("household_id", "note"):
            notes[hid] = note
    return {
        "categories": categories,
        "rows": [
            {"household": h, "awarded": awarded.get(h.pk, {}), "total": sum(awarded.get(h.pk, {}).values()), "note": notes.get(h.pk, "")}
            for h in households
        ],
    }


def village_board(*, village: Village, month: datetime.date) -> list[dict]:
    """善行义举榜: the village's households by points awarded in the month (names only, no IDs)."""
    rows = (
        Award.objects.filter(review__village=village, review__month=month).values("household__head_name", "household__number")
        .annotate(points=Sum("points")).filter(points__gt=0).order_by("-points", "household__number")
    )
    board, rank, last = [], 0, None
    for i, r in enumerate(rows, start=1):
        if r["points"] != last:
            rank, last = i, r["points"]
        board.append({"rank": rank, "name": r["household__head_name"], "points": r["points"]})
    return board


def county_report(*, user, year: int) -> list[dict]:
    """Per village (in the user's scope) and month of ``year``: points awarded (approved),
    redeemed, goods given out (units), and the village's goods on hand now."""
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    villages = access.villages_visible_to(user)
    entries = (
        PointsEntry.objects.filter(month__range=(start, end), household__village__in=villages)
        .values("household__village_id", "month")
        .annotate(awarded=Coalesce(Sum("points", filter=Q(kind=PointsEntry.Kind.AWARD)), 0),
                  redeemed=Coalesce(Sum("points", filter=Q(kind=PointsEntry.Kind.REDEMPTION)), 0))
    )
    # Goods given out in the month the redemption was booked (its ledger entry's month).
    goods_out = (
        RedemptionLine.objects.filter(redemption__village__in=villages, redemption__ledger_entries__month__range=(start, end))
        .values("redemption__village_id", "redemption__ledger_entries__month")
        .annotate(units=Sum("quantity"))
    )
    out = {(g["redemption__village_id"], g["redemption__ledger_entries__month"]): g["units"] for g in goods_out}
    on_hand = dict(GoodsItem.objects.filter(village__in=villages).values("village_id").annotate(n=Sum("on_hand")).values_list("village_id", "n"))
    names = {v.pk: v for v in villages}
    rows = []
    for e in entries:
        village = names[e["household__village_id"]]
        rows.append({
            "township": village.township.name, "village": village.name, "village_code": village.code, "month": e["month"].strftime("%Y-%m"),
            "awarded": e["awarded"], "redeemed": -e["redeemed"], "goods_out": out.get((village.pk, e["month"]), 0),
            "on_hand": on_hand.get(village.pk, 0),
        })
    rows.sort(key=lambda r: (r["township"], r["village_code"], r["month"]))
    return rows


def months_awaiting_approval(user):
    return (ReviewMonth.objects.filter(status=ReviewMonth.Status.SUBMITTED, village__in=access.villages_visible_to(user))
            .select_related("village__township", "submitted_by").annotate(points=Sum("awards__points"), households=Count("awards__household", distinct=True))
            .order_by("month", "village__code"))


def recent_reviews(village: Village, *, limit: int = 6):
    return ReviewMonth.objects.filter(village=village).order_by("-month")[:limit]


def recent_redemptions(village: Village, *, limit: int = 10):
    return Redemption.objects.filter(village=village).select_related("household").prefetch_related("lines__item")[:limit]


def township_totals() -> list[dict]:
    """The public figure: points awarded (approved) and redeemed per township. Aggregates only."""
    rows = (
        PointsEntry.objects.values("household__village__township__name", "household__village__township__code")
        .annotate(awarded=Coalesce(Sum("points", filter=Q(kind=PointsEntry.Kind.AWARD)), 0),
                  redeemed=Coalesce(Sum("points", filter=Q(kind=PointsEntry.Kind.REDEMPTION)), 0))
        .order_by("household__village__township__code")
    )
    return [{"township": r["household__village__township__name"], "awarded": r["awarded"], "redeemed": -r["redeemed"]} for r in rows]
