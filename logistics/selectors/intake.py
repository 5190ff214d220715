"""Reads of the intake screens and API: a point's intakes, the household picker, the price board.

Every read is scoped by who asks: collection-point staff see their own point (and the
households of the villages it serves); the county office sees everything.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from core import roles
from core.errors import DomainError
from core.money import price_per_jin
from households.access import households_visible_to
from households.models import Household

from ..filters_intake import (
    CountyIntakeFilter,
    HouseholdPickerFilter,
    IntakeFilter,
    RegistryHouseholdPickerFilter,
    local_day_bounds,
)
from ..models import Facility, Grade, Intake, Produce, PurchasePrice
from ..services.intake import collection_point_of, require_collection_point, served_village_ids


class InvalidFilters(DomainError):
    """Query parameters a FilterSet refused; ``errors`` maps each parameter to its messages."""

    code = "invalid_filters"

    def __init__(self, errors):
        self.errors = {k: [str(m) for m in v] for k, v in errors.items()}
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in self.errors.items()))


def _apply(filterset_class, filters, queryset):
    filterset = filterset_class(filters or {}, queryset=queryset)
    if not filterset.is_valid():
        raise InvalidFilters(filterset.errors)
    return filterset.qs


def _intake_queryset() -> QuerySet[Intake]:
    return Intake.objects.select_related(
        "lot", "household__village", "grade__produce", "collection_point", "staff", "void"
    ).order_by("-created_at", "-id")


def intake_list(*, user, filters=None) -> QuerySet[Intake]:
    """Intakes ``user`` may see, newest first: their point's, or every point's for the county office."""
    if roles.is_county_office(user):
        return _apply(CountyIntakeFilter, filters, _intake_queryset())
    point = require_collection_point(user)
    return _apply(IntakeFilter, filters, _intake_queryset().filter(collection_point=point))


def intake_for_user(*, user, lot_code: str) -> Intake | None:
    """The intake of ``lot_code`` if ``user`` may see it (its point's staff or the county office)."""
    qs = _intake_queryset().filter(lot__code=lot_code)
    if not roles.is_county_office(user):
        point = collection_point_of(user)
        if point is None:
            return None
        qs = qs.filter(collection_point=point)
    return qs.first()


def household_picker_list(*, user, filters=None) -> QuerySet[Household]:
    """Households ``user`` may record intake for (the county office: all, with registry filters)."""
    qs = Household.objects.select_related("village").order_by("number")
    if roles.is_county_office(user):
        return _apply(RegistryHouseholdPickerFilter, filters, qs)
    require_collection_point(user)
    # The same set as the admin's registry for this user: one policy (logistics/access.py).
    return _apply(HouseholdPickerFilter, filters, qs.filter(pk__in=households_visible_to(user).values("pk")))


def recent_households(*, point: Facility, limit: int = 8, scan: int = 300) -> list[Household]:
    """The households that sold here most recently, latest first: the repeat customers.

    Reads only the point's latest ``scan`` intakes (the (collection_point, created_at) index),
    so the page stays fast however long the season has run."""
    recent = (
        Intake.objects.filter(collection_point=point).order_by("-created_at", "-id").values_list("household_id", flat=True)[:scan]
    )
    ids: list[int] = []
    for household_id in recent:
        if household_id not in ids:
            ids.append(household_id)
            if len(ids) == limit:
                break
    by_id = Household.objects.select_related("village").in_bulk(ids)
    return [by_id[i] for i in ids if i in by_id and by_id[i].village_id in served_village_ids(point)]


def last_intake_by(*, staff, point: Facility) -> Intake | None:
    return Intake.objects.select_related("grade__produce").filter(collection_point=point, staff=staff).order_by("-created_at", "-id").first()


@dataclass(frozen=True)
class DayTotals:
    count: int
    weight_kg: Decimal
    amount: Decimal
    voided: int


def intakes_of_day(*, point: Facility, day: datetime.date | None = None) -> tuple[list[Intake], DayTotals]:
    """A point's intakes of one local day (newest first) and their totals, voided ones left out."""
    day = day or timezone.localdate()
    start, end = local_day_bounds(day)
    qs = _intake_queryset().filter(collection_point=point, created_at__gte=start, created_at__lt=end)
    totals = qs.aggregate(
        count=Count("id", filter=Q(void__isnull=True)),
        weight=Sum("weight_kg", filter=Q(void__isnull=True)),
        amount=Sum("amount", filter=Q(void__isnull=True)),
        voided=Count("id", filter=Q(void__isnull=False)),
    )
    return list(qs), DayTotals(
        count=totals["count"] or 0,
        weight_kg=totals["weight"] or Decimal("0.000"),
        amount=totals["amount"] or Decimal("0.00"),
        voided=totals["voided"] or 0,
    )


@dataclass(frozen=True)
class PriceLine:
    produce_code: str
    produce_name: str
    grade_code: str
    grade_name: str
    price_per_kg: Decimal
    price_per_jin: Decimal
    effective_from: datetime.date


def price_board(*, on: datetime.date | None = None) -> list[PriceLine]:
    """Every grade's price in force on ``on`` (grades without one are left out), by produce and rank."""
    on = on or timezone.localdate()
    rows = PurchasePrice.objects.filter(effective_from__lte=on).select_related("grade__produce").order_by("grade_id", "-effective_from")
    seen: set[int] = set()
    lines: list[tuple] = []
    for row in rows:
        if row.grade_id in seen:
            continue
        seen.add(row.grade_id)
        g = row.grade
        lines.append(
            (
                (g.produce.code, g.rank, g.code),
                PriceLine(
                    produce_code=g.produce.code,
                    produce_name=g.produce.name,
                    grade_code=g.code,
                    grade_name=g.name,
                    price_per_kg=row.price_per_kg,
                    price_per_jin=price_per_jin(row.price_per_kg),
                    effective_from=row.effective_from,
                ),
            )
        )
    return [line for _key, line in sorted(lines, key=lambda t: t[0])]


def produce_with_grades() -> list[tuple[Produce, list[Grade]]]:
    produce = list(Produce.objects.prefetch_related("grades").order_by("code"))
    return [(p, sorted(p.grades.all(), key=lambda g: g.rank)) for p in produce]
