"""Demo county for households/: Zhen'an's 15 townships by their real names, about 150 villages,
N households (2,000 by default, up to 25,000), and one demo login per role.

Deterministic (a fixed random seed) and idempotent: running it twice changes nothing.
"""

from __future__ import annotations

import csv
import datetime
import random
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from core import roles

from .models import SUBCLASSES_OF, Household, LabourClass, PovertyStatus, Township, Village
from .validators import id_check_digit

DEMO_PASSWORD = "relief-demo"
DEMO_USERS = {
    "county": (roles.COUNTY_OFFICE, "县扶贫办 演示"),
    "point": (roles.COLLECTION_POINT_STAFF, "收购点 演示"),
    "station": (roles.SORTING_STATION_STAFF, "分拣站 演示"),
    "shop": (roles.SUPERMARKET_STAFF, "扶贫超市 演示"),
    "cashier": (roles.SUPERMARKET_STAFF, "门店收银 演示"),
    "employee": (roles.EMPLOYEE, "干部职工 演示"),
}

TOWNSHIPS_CSV = Path(__file__).parent / "data" / "zhenan-townships.csv"
VILLAGES_PER_TOWNSHIP = 10

_VILLAGE_STEMS = [
    "水峡", "东坡", "西沟", "河口", "石门", "双河", "青山", "枫树", "黄龙", "金台", "红光", "新华",
    "白鹤", "松柏", "栗园", "茶坪", "花园", "联合", "光明", "向阳", "月星", "龙潭", "桃园", "云镇",
    "瓦房", "杨泗", "庙坡", "塔云", "象园", "丰收", "太平", "钟山", "凤凰", "元坪", "三湾", "马家",
]
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢"
_GIVEN = "建国华明军平伟芳秀英兰红玉梅海林强刚永兴福贵春生全成德发富有才忠志文武双喜金银山水"


def _id_number(rng: random.Random, n: int) -> str:
    # Unique for the county's 25,000 households (one ID number is one person): each block of 1,000
    # households is born in its own 876-day window, and the sequence digits count within the block.
    window = 365 * 60 // 25
    born = datetime.date(1940, 1, 1) + datetime.timedelta(days=(n // 1000) % 25 * window + rng.randrange(0, window))
    first17 = f"611025{born:%Y%m%d}{n % 1000:03d}"
    return first17 + id_check_digit(first17)


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('35789')}{rng.randrange(0, 10**9):09d}"


@transaction.atomic
def seed_townships_and_villages() -> list[Village]:
    with TOWNSHIPS_CSV.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    villages: list[Village] = []
    for i, row in enumerate(rows):
        township, _ = Township.objects.get_or_create(
            code=row["code"], defaults={"name": row["name"], "kind": row["kind"]}
        )
        stems = _VILLAGE_STEMS[(i * 7) % len(_VILLAGE_STEMS):] + _VILLAGE_STEMS
        names = []
        if row["code"] == "611025103":
            names.append("水峡")  # 米粮镇水峡村, named in the seed
        for stem in stems:
            if len(names) == VILLAGES_PER_TOWNSHIP:
                break
            if stem not in names:
                names.append(stem)
        for j, stem in enumerate(names, start=1):
            village, _ = Village.objects.get_or_create(
                code=f"{row['code']}{j:03d}", defaults={"township": township, "name": f"{stem}村"}
            )
            villages.append(village)
    return villages


def seed_households(villages: list[Village], count: int) -> int:
    """Create households until there are ``count`` demo households; returns how many were added."""
    rng = random.Random(20201)
    existing = set(Household.objects.values_list("number", flat=True))
    new = []
    for n in range(count):
        village = villages[n % len(villages)]
        number = f"{village.code}{n // len(villages) + 1:04d}"
        labour = rng.choices([LabourClass.ABLE, LabourClass.WEAK, LabourClass.NONE], weights=[6, 3, 1])[0]
        status = rng.choices(
            [PovertyStatus.LIFTED, PovertyStatus.MONITORING, PovertyStatus.IN_POVERTY], weights=[85, 10, 5]
        )[0]
        # Draw everything even for existing rows, so that a larger second run makes the same rows.
        fields = dict(
            head_name=rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice([1, 2]))),
            id_number=_id_number(rng, n),
            phone=_phone(rng),
            members=rng.randint(1, 6),
            labour_class=labour,
            sub_class=rng.choice(SUBCLASSES_OF[labour]),
            poverty_status=status,
            lifted_year=rng.randint(2014, 2020) if status == PovertyStatus.LIFTED else None,
            flag_illness_disability=rng.random() < 0.08,
            flag_elderly_alone=rng.random() < 0.05,
            flag_relocated_commuting=rng.random() < 0.04,
            flag_marginal=rng.random() < 0.03,
            payout_bank="镇安县农村信用合作联社",
            payout_account=f"6217{rng.randrange(0, 10**15):015d}",
        )
        if number in existing:
            continue
        new.append(Household(number=number, village=village, **fields))
    Household.objects.bulk_create(new, batch_size=2000)
    return len(new)


def seed_users() -> dict[str, object]:
    User = get_user_model()
    roles.ensure_role_groups()
    users = {}
    for username, (role, full_name) in DEMO_USERS.items():
        user, created = User.objects.get_or_create(username=username, defaults={"first_name": full_name})
        if created:
            user.set_password(DEMO_PASSWORD)
            if role == roles.COUNTY_OFFICE:
                user.is_staff = True
            user.save()
        user.groups.add(Group.objects.get(name=role))
        users[username] = user
    return users


def seed(*, households: int = 2000, stdout=None, context: dict | None = None) -> dict:
    villages = seed_townships_and_villages()
    added = seed_households(villages, households)
    users = seed_users()
    if stdout:
        stdout.write(f"households: {Household.objects.count()} ({added} added), villages: {len(villages)}")
    return {"villages": villages, "users": users}
