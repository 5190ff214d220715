"""A collection point's daily cash sheet (收购点现金日报) and every point's balance.

Cash at a point moves by three documents: advances from the county office (CashAdvance, + or −
for cash taken back), intakes paid at the scale (Intake.amount, on the day weighed) and voids
(IntakeVoid, which give the paid amount back on the day of the void — the cash comes back then,
not on the day of the intake). Cash at the end of a day = cash at its start + advances − paid +
voids; cash at the start = the end of the day before; the first day starts at zero.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case, DecimalField, F, Sum, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from core.money import ZERO, yuan

from ..filters_intake import local_day_bounds
from ..models import CashAdvance, Facility, Intake, IntakeVoid

_SIGNED = Case(
    When(kind=CashAdvance.Kind.ADVANCE, then=F("amount")),
    default=Value(0) - F("amount"),
    output_field=DecimalField(max_digits=14, decimal_places=2),
)


@dataclass
class CashSheet:
    point: Facility
    day: datetime.date
    start: Decimal
    advances: Decimal  # net: advanced − taken back
    paid: Decimal  # intakes weighed this day, voided or not
    reversed: Decimal  # voids made this day
    end: Decimal
    advance_rows: list = field(default_factory=list)
    intakes: list = field(default_factory=list)
    voids: list = field(default_factory=list)

    @property
    def net_paid(self) -> Decimal:
        return self.paid - self.reversed


def _sum(qs, expr) -> Decimal:
    return yuan(qs.aggregate(total=Sum(expr))["total"] or ZERO)


def _flows(point: Facility, since: datetime.datetime | None, until: datetime.datetime) -> tuple[Decimal, Decimal, Decimal]:
    advances = CashAdvance.objects.filter(point=point, created_at__lt=until)
    intakes = Intake.objects.filter(collection_point=point, created_at__lt=until)
    voids = IntakeVoid.objects.filter(intake__collection_point=point, created_at__lt=until)
    if since is not None:
        advances = advances.filter(created_at__gte=since)
        intakes = intakes.filter(created_at__gte=since)
        voids = voids.filter(created_at__gte=since)
    return _sum(advances, _SIGNED), _sum(intakes, "amount"), _sum(voids, "intake__amount")


def cash_sheet(*, point: Facility, day: datetime.date | None = None) -> CashSheet:
    """The point's cash sheet of one local day, with the rows behind each figure."""
    day = day or timezone.localdate()
    start_at, end_at = local_day_bounds(day)
    before_adv, before_paid, before_rev = _flows(point, None, start_at)
    adv, paid, rev = _flows(point, start_at, end_at)
    start = before_adv - before_paid + before_rev
    return CashSheet(
        point=point,
        day=day,
        start=start,
        advances=adv,
        paid=paid,
        reversed=rev,
        end=start + adv - paid + rev,
        advance_rows=list(CashAdvance.objects.filter(point=point, created_at__gte=start_at, created_at__lt=end_at).select_related("author")),
        intakes=list(
            Intake.objects.filter(collection_point=point, created_at__gte=start_at, created_at__lt=end_at)
            .select_related("household", "grade__produce", "lot", "void")
            .order_by("created_at", "id")
        ),
        voids=list(
            IntakeVoid.objects.filter(intake__collection_point=point, created_at__gte=start_at, created_at__lt=end_at)
            .select_related("intake__household", "intake__lot")
            .order_by("created_at", "id")
        ),
    )


@dataclass
class PointBalance:
    point: Facility
    advances: Decimal
    net_paid: Decimal
    end: Decimal


def cash_balances(*, day: datetime.date | None = None, points=None) -> list[PointBalance]:
    """Every collection point's cash at the end of ``day`` (today by default): three grouped sums."""
    day = day or timezone.localdate()
    _start, end_at = local_day_bounds(day)
    if points is None:
        points = Facility.objects.filter(kind=Facility.Kind.COLLECTION_POINT, active=True).select_related("township", "village")
    points = list(points.order_by("township__name", "code") if hasattr(points, "order_by") else points)
    adv = dict(
        CashAdvance.objects.filter(created_at__lt=end_at).values("point").annotate(t=Sum(_SIGNED)).values_list("point", "t")
    )
    paid = dict(
        Intake.objects.filter(created_at__lt=end_at).values("collection_point").annotate(t=Sum("amount")).values_list("collection_point", "t")
    )
    rev = dict(
        IntakeVoid.objects.filter(created_at__lt=end_at)
        .values("intake__collection_point").annotate(t=Sum("intake__amount")).values_list("intake__collection_point", "t")
    )
    rows = []
    for p in points:
        a, n = yuan(adv.get(p.pk) or ZERO), yuan((paid.get(p.pk) or ZERO) - (rev.get(p.pk) or ZERO))
        rows.append(PointBalance(point=p, advances=a, net_paid=n, end=a - n))
    return rows


def cash_days() -> dict[int, list[tuple[datetime.date, Decimal, Decimal]]]:
    """Per point, each local day with cash movement: (day, net advances, net paid), in day order —
    what ``reconcile`` walks to prove the sheets add up."""
    tz = timezone.get_current_timezone()
    days: dict[int, dict[datetime.date, list[Decimal]]] = defaultdict(lambda: defaultdict(lambda: [ZERO, ZERO]))
    for point_id, day, total in (
        CashAdvance.objects.annotate(day=TruncDate("created_at", tzinfo=tz)).values("point", "day").annotate(t=Sum(_SIGNED))
        .values_list("point", "day", "t")
    ):
        days[point_id][day][0] += Decimal(total)
    for point_id, day, total in (
        Intake.objects.annotate(day=TruncDate("created_at", tzinfo=tz)).values("collection_point", "day").annotate(t=Sum("amount"))
        .values_list("collection_point", "day", "t")
    ):
        days[point_id][day][1] += Decimal(total)
    for point_id, day, total in (
        IntakeVoid.objects.annotate(day=TruncDate("created_at", tzinfo=tz)).values("intake__collection_point", "day")
        .annotate(t=Sum("intake__amount")).values_list("intake__collection_point", "day", "t")
    ):
        days[point_id][day][1] -= Decimal(total)
    return {pid: [(d, yuan(v[0]), yuan(v[1])) for d, v in sorted(per.items())] for pid, per in days.items()}


def points_keeping_cash() -> set[int]:
    return set(CashAdvance.objects.values_list("point_id", flat=True).distinct())


__all__ = ["CashSheet", "PointBalance", "cash_balances", "cash_days", "cash_sheet", "points_keeping_cash"]
