"""A collection point ready to buy: produce with grades and prices, a staff user, households.

Built on the shared factories (tests/logistics/factories.py); used by the intake tests.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from core import roles
from households.models import Household, Village
from logistics.models import Facility, Grade, Produce, PurchasePrice
from tests.households.factories import HouseholdFactory, UserFactory, VillageFactory
from tests.logistics.factories import CollectionPointFactory, GradeFactory, ProduceFactory, PurchasePriceFactory, staff_at

PRICE_FROM = datetime.date(2020, 1, 1)


def chestnut_grades() -> dict[str, Grade]:
    """板栗 with 特级 40.00, 一级 12.00 and 二级 8.00 yuan/kg from 2020-01-01."""
    chestnut = ProduceFactory(code="chestnut", name="板栗", category=Produce.Category.CHESTNUT)
    grades = {
        "premium": GradeFactory(produce=chestnut, code="premium", name="特级", rank=1),
        "grade1": GradeFactory(produce=chestnut, code="grade1", name="一级", rank=2),
        "grade2": GradeFactory(produce=chestnut, code="grade2", name="二级", rank=3),
    }
    for code, price in (("premium", "40.00"), ("grade1", "12.00"), ("grade2", "8.00")):
        if not PurchasePrice.objects.filter(grade=grades[code], effective_from=PRICE_FROM).exists():
            PurchasePriceFactory(grade=grades[code], price_per_kg=Decimal(price), effective_from=PRICE_FROM)
    return grades


def honey_grade() -> Grade:
    """蜂蜜 has only 一级 (no premium), 60.00 yuan/kg."""
    honey = ProduceFactory(code="honey", name="蜂蜜", category=Produce.Category.HONEY)
    grade = GradeFactory(produce=honey, code="grade1", name="一级", rank=2)
    if not PurchasePrice.objects.filter(grade=grade, effective_from=PRICE_FROM).exists():
        PurchasePriceFactory(grade=grade, price_per_kg=Decimal("60.00"), effective_from=PRICE_FROM)
    return grade


@dataclass
class PointSetup:
    point: Facility
    village: Village
    staff: object
    households: list[Household]
    grades: dict[str, Grade] = field(default_factory=dict)

    @property
    def household(self) -> Household:
        return self.households[0]


def point_setup(*, households: int = 2, username: str | None = None) -> PointSetup:
    """A point in its own village serving it, one staff user, ``households`` households there."""
    village = VillageFactory()
    point = CollectionPointFactory(village=village)
    staff = staff_at(point, roles.COLLECTION_POINT_STAFF, username=username)
    hh = [HouseholdFactory(village=village) for _ in range(households)]
    return PointSetup(point=point, village=village, staff=staff, households=hh, grades=chestnut_grades())


def county_user(username: str = "county-office"):
    return UserFactory(username=username, role=roles.COUNTY_OFFICE)


def intake_kwargs(setup: PointSetup, **overrides) -> dict:
    data = {
        "staff": setup.staff,
        "client_id": uuid.uuid4(),
        "household_number": setup.household.number,
        "produce_code": "chestnut",
        "grade_code": "grade1",
        "weight_kg": "12.500",
    }
    data.update(overrides)
    return data
