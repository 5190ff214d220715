"""A small love-points world: the county's rules, two villages with staff, goods in stock."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

from core import roles
from lovepoints import services
from lovepoints.models import GoodsItem, RuleSet, VillageStaff
from tests.households.factories import HouseholdFactory, UserFactory, VillageFactory

CATEGORIES = [("diligence", "勤劳致富", 10), ("filial", "孝老爱亲", 10), ("hygiene", "环境卫生", 5), ("volunteer", "志愿服务", 10)]


def this_month() -> datetime.date:
    return services.county_today().replace(day=1)


def last_month() -> datetime.date:
    return (this_month() - datetime.timedelta(days=1)).replace(day=1)


def village_staff(village, username=None):
    user = UserFactory(username=username or f"vs-{village.code}", role=roles.VILLAGE_STAFF)
    VillageStaff.objects.get_or_create(user=user, defaults={"village": village})
    return user


@dataclass
class World:
    county: object
    village: object
    other_village: object
    staff: object
    other_staff: object
    households: list = field(default_factory=list)
    others: list = field(default_factory=list)
    rules: RuleSet | None = None
    items: list = field(default_factory=list)

    def award(self, household, code="diligence", month=None, **kwargs):
        award, _created = services.award_record(author=self.staff, household=household, month=month or last_month(),
                                                category_code=code, client_id=kwargs.pop("client_id", uuid.uuid4()), **kwargs)
        return award

    def approve(self, month=None, village=None):
        review = services.review_month_open(village=village or self.village, month=month or last_month())
        services.review_submit(review=review, author=self.staff if (village or self.village) == self.village else self.other_staff)
        return services.review_approve(review=review, author=self.county)

    def approve_submitted(self):
        from lovepoints.models import ReviewMonth

        return [services.review_approve(review=r, author=self.county) for r in ReviewMonth.objects.filter(status="submitted")]

    def give_points(self, household, codes=("diligence", "filial", "volunteer"), month=None):
        for code in codes:
            self.award(household, code, month=month)
        return self.approve(month=month)

    def redeem(self, household, lines, client_id=None, author=None):
        return services.redemption_record(author=author or self.staff, household=household, lines=lines, client_id=client_id or uuid.uuid4())


def world(*, households=3, cap=30, goods=((("食用油", "桶", 20), 5), (("毛巾", "条", 5), 10))) -> World:
    county = UserFactory(username="lp-county", role=roles.COUNTY_OFFICE)
    village, other_village = VillageFactory(), VillageFactory()
    staff, other_staff = village_staff(village), village_staff(other_village)
    rules = services.rule_set_create(effective_from=datetime.date(2020, 1, 1), monthly_cap=cap, categories=CATEGORIES, author=county)
    w = World(county=county, village=village, other_village=other_village, staff=staff, other_staff=other_staff, rules=rules,
              households=[HouseholdFactory(village=village) for _ in range(households)],
              others=[HouseholdFactory(village=other_village) for _ in range(2)])
    for (name, unit, price), quantity in goods:
        item = services.goods_item_create(author=staff, name=name, unit=unit, points_price=price)
        services.goods_receive(author=staff, item=item, quantity=quantity)
        w.items.append(GoodsItem.objects.get(pk=item.pk))
    return w
