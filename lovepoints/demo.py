"""Demo love points: the county's rules, a `village` login, and two villages with the last few
months reviewed (approved), this month being entered, goods in stock and some redemptions.
Everything goes through the services; running it twice changes nothing."""

from __future__ import annotations

import datetime
import random
import uuid

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from core import roles
from households.demo import DEMO_PASSWORD
from households.models import Household, Village

from . import services
from .models import GoodsItem, PointsAccount, RuleSet, VillageStaff

CATEGORIES = [
    ("diligence", "勤劳致富", 10),
    ("filial", "孝老爱亲", 10),
    ("hygiene", "环境卫生", 5),
    ("customs", "移风易俗", 5),
    ("volunteer", "志愿服务", 10),
]
GOODS = [("食用油 5L", "桶", 40), ("大米 10斤", "袋", 25), ("洗衣粉", "袋", 8), ("毛巾", "条", 5), ("牙膏", "支", 4)]
MONTHS_BACK = 3


def _months(today: datetime.date) -> list[datetime.date]:
    first = today.replace(day=1)
    out = [first]
    for _i in range(MONTHS_BACK):
        out.append((out[-1] - datetime.timedelta(days=1)).replace(day=1))
    return list(reversed(out))


def _village_user(username: str, village: Village, full_name: str):
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults={"first_name": full_name})
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    user.groups.add(Group.objects.get(name=roles.VILLAGE_STAFF))
    VillageStaff.objects.get_or_create(user=user, defaults={"village": village})
    return user


def _demo_villages() -> list[Village]:
    """水峡村 (the demo point's village) when it has households, and the next village with households."""
    with_households = Village.objects.filter(households__isnull=False).distinct().order_by("code")
    preferred = with_households.filter(name="水峡村", township__code="611025103").first()
    chosen = [preferred] if preferred else []
    for village in with_households[:5]:
        if len(chosen) == 2:
            break
        if village not in chosen:
            chosen.append(village)
    return chosen


def seed(*, households: int = 2000, stdout=None, context: dict | None = None) -> dict:
    roles.ensure_role_groups()
    county = (context or {}).get("users", {}).get("county") or get_user_model().objects.filter(username="county").first()
    if county is None or RuleSet.objects.exists():
        return {}
    today = services.county_today()
    months = _months(today)
    services.rule_set_create(effective_from=months[0], monthly_cap=30, categories=CATEGORIES, author=county)
    villages = _demo_villages()
    staff = [_village_user("village", villages[0], "村爱心超市管理员")]
    staff += [_village_user(f"village{i + 2}", v, "村爱心超市管理员") for i, v in enumerate(villages[1:])]
    rng = random.Random(611025)
    for village, user in zip(villages, staff, strict=True):
        for name, unit, price in GOODS:
            item = services.goods_item_create(author=user, name=name, unit=unit, points_price=price)
            services.goods_receive(author=user, item=item, quantity=rng.randint(10, 30), note="县扶贫办配送")
        members = list(Household.objects.filter(village=village).order_by("number")[:20])
        for month in months:
            for household in members:
                for code, _name, _points in rng.sample(CATEGORIES, k=rng.randint(0, 3)):
                    services.award_record(author=user, household=household, month=month, category_code=code, client_id=uuid.uuid4())
            review = services.review_month_open(village=village, month=month)
            if month != months[-1] and review.awards.exists():
                services.review_submit(review=review, author=user)
                services.review_approve(review=review, author=county)
        items = list(GoodsItem.objects.filter(village=village).order_by("points_price"))
        for household in members[:6]:
            balance = PointsAccount.objects.filter(household=household).values_list("balance", flat=True).first() or 0
            affordable = [i for i in items if i.points_price <= balance]
            if affordable:
                services.redemption_record(author=user, household=household, lines=[(affordable[-1].pk, 1)], client_id=uuid.uuid4())
    if stdout:
        stdout.write(f"love points: rules, {len(villages)} villages reviewed for {len(months)} months; "
                     f"village login `village` ({villages[0].township.name}{villages[0].name})")
    return {}
