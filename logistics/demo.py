"""Demo supply chain: one collection point per village, one sorting station per township, the
county supermarket; produce, grades, the purchase price list and SKUs; a season of intakes
(through the intake service), shipments to the stations (a few with losses in transit),
packing runs, inspections, and shipments on to the supermarket — so there is inspected stock
of every SKU there. Consistent with ``reconcile``.

Deterministic and idempotent: reference data is get-or-create, and the season is written once
(the first intake's client id is the marker). Fast: one transaction, a few thousand intakes.
"""

from __future__ import annotations

import datetime
import random
import time
import uuid
from collections import defaultdict
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from core import roles
from core.money import kg
from households.models import Household, Township, Village

from .models import BatchStock, Facility, Grade, Intake, Lot, LotMovement, PackedBatch, Produce, Sku, StaffAssignment
from .services.batches import batch_inspect
from .services.cash import cash_advance_record
from .services.intake import intake_record
from .services.packing import packing_run_complete
from .services.prices import purchase_price_set
from .services.shipments import shipment_dispatch, shipment_receive

SUPERMARKET_CODE = "SM-611025"
NAMESPACE = uuid.UUID("5b0c3f8e-2f0e-4d39-9a57-6f1b0c1e2d11")
PRICE_FROM = datetime.date(2024, 1, 1)
PRICE_CHANGE = datetime.date(2025, 10, 15)

# code: (name, category, {grade: price per kg}, (min kg, max kg) per intake, share of intakes)
PRODUCE = {
    "chestnut": ("板栗", Produce.Category.CHESTNUT, {"premium": "16.00", "grade1": "12.00", "grade2": "8.00"}, (10, 80), 40),
    "walnut": ("核桃", Produce.Category.WALNUT, {"premium": "30.00", "grade1": "24.00", "grade2": "18.00"}, (5, 40), 20),
    "tea": ("茶叶", Produce.Category.TEA, {"premium": "400.00", "grade1": "240.00", "grade2": "120.00"}, (1, 8), 12),
    "shiitake": ("香菇", Produce.Category.FUNGI, {"premium": "90.00", "grade1": "70.00", "grade2": "50.00"}, (2, 15), 12),
    "wood_ear": ("木耳", Produce.Category.FUNGI, {"premium": "110.00", "grade1": "90.00", "grade2": "70.00"}, (1, 8), 9),
    "honey": ("蜂蜜", Produce.Category.HONEY, {"grade1": "100.00", "grade2": "70.00"}, (2, 20), 7),
}
GRADES = {"premium": ("特级", 1), "grade1": ("一级", 2), "grade2": ("二级", 3)}
PRICE_RISE = {("chestnut", "grade1"): "12.60", ("chestnut", "premium"): "16.80"}  # the 2025 season's revision

# code: (name, produce, grade, unit kg, shelf life days)
SKUS = {
    "ZA-CHESTNUT-2500": ("镇安板栗 2.5 kg 礼盒", "chestnut", "grade1", "2.500", 180),
    "ZA-CHESTNUT-P1000": ("镇安板栗 特级 1 kg", "chestnut", "premium", "1.000", 180),
    "ZA-TEA-P250": ("特级绿茶 250 g", "tea", "premium", "0.250", 540),
    "ZA-WALNUT-1000": ("核桃 1 kg", "walnut", "grade1", "1.000", 365),
    "ZA-SHIITAKE-500": ("香菇 500 g", "shiitake", "grade1", "0.500", 365),
    "ZA-WOODEAR-250": ("黑木耳 250 g", "wood_ear", "grade1", "0.250", 540),
    "ZA-HONEY-500": ("土蜂蜜 500 g", "honey", "grade1", "0.500", 720),
}
GRADE_SHARE = {"premium": 20, "grade1": 55, "grade2": 25}
INTAKES_PER_HOUSEHOLD = Decimal("1")
MAX_INTAKES = 2500
LOTS_PER_RUN = 40


def _staff_user(username: str, role: str, facility: Facility, full_name: str):
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults={"first_name": full_name})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.add(Group.objects.get(name=role))
    StaffAssignment.objects.update_or_create(user=user, defaults={"facility": facility})
    return user


def seed_facilities() -> tuple[Facility, dict[int, Facility], dict[int, Facility]]:
    """The supermarket; a station per township; a point per village serving it. Codes are the
    short local part of the division codes (``ST-103``, ``CP-103001``): they lead every lot and
    batch code printed on receipts and labels."""
    sm, _ = Facility.objects.get_or_create(code=SUPERMARKET_CODE, defaults={"kind": Facility.Kind.SUPERMARKET, "name": "镇安县扶贫超市"})
    stations: dict[int, Facility] = {}
    for t in Township.objects.order_by("code"):
        stations[t.pk], _ = Facility.objects.get_or_create(
            code=f"ST-{t.code[6:]}", defaults={"kind": Facility.Kind.SORTING_STATION, "name": f"{t.name}分拣站", "township": t, "ships_to": sm}
        )
    points: dict[int, Facility] = {}
    existing = {f.village_id: f for f in Facility.objects.filter(kind=Facility.Kind.COLLECTION_POINT, code__startswith="CP-")}
    for v in Village.objects.select_related("township").order_by("code"):
        point = existing.get(v.pk)
        if point is None:
            point = Facility.objects.create(
                code=f"CP-{v.code[6:]}", kind=Facility.Kind.COLLECTION_POINT, name=f"{v.township.name}{v.name}收购点", township=v.township,
                village=v, ships_to=stations[v.township_id],
            )
            point.served_villages.add(v)
        points[v.pk] = point
    return sm, stations, points


def seed_produce(author) -> list[Sku]:
    for code, (name, category, prices, _range, _share) in PRODUCE.items():
        produce, _ = Produce.objects.get_or_create(code=code, defaults={"name": name, "category": category})
        for grade_code, price in prices.items():
            gname, rank = GRADES[grade_code]
            grade, _ = Grade.objects.get_or_create(produce=produce, code=grade_code, defaults={"name": gname, "rank": rank})
            purchase_price_set(grade=grade, price_per_kg=Decimal(price), effective_from=PRICE_FROM, author=author)
            if (code, grade_code) in PRICE_RISE:
                purchase_price_set(grade=grade, price_per_kg=Decimal(PRICE_RISE[(code, grade_code)]), effective_from=PRICE_CHANGE, author=author)
    skus = []
    for code, (name, produce_code, grade_code, unit, shelf) in SKUS.items():
        grade = Grade.objects.get(produce__code=produce_code, code=grade_code)
        sku, _ = Sku.objects.get_or_create(
            code=code, defaults={"name": name, "produce": grade.produce, "grade": grade, "unit_weight_kg": Decimal(unit), "shelf_life_days": shelf}
        )
        skus.append(sku)
    return skus


def _demo_point(points: dict[int, Facility]) -> Facility:
    """A point whose village has households (米粮镇水峡村 when it has any)."""
    with_households = set(Household.objects.values_list("village_id", flat=True).distinct())
    preferred = Village.objects.filter(name="水峡村", township__code="611025103").values_list("pk", flat=True).first()
    if preferred in with_households:
        return points[preferred]
    return points[min(with_households, key=lambda vid: points[vid].code)]


def _on_hand(facility: Facility) -> dict[int, Decimal]:
    rows = LotMovement.objects.filter(facility=facility).values("lot_id").annotate(q=Sum("quantity_kg")).filter(q__gt=0)
    return {r["lot_id"]: r["q"] for r in rows}


def seed_season(*, users: dict, sm: Facility, stations: dict[int, Facility], points: dict[int, Facility], skus: list[Sku], stdout=None) -> bool:
    """Intakes, shipments, packing, inspection and the supermarket's stock; False if already there."""
    if Intake.objects.filter(client_id=uuid.uuid5(NAMESPACE, "intake-0")).exists():
        return False
    started = time.perf_counter()
    rng = random.Random(611025)
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    season_start = today - datetime.timedelta(days=75)
    season_days = 55

    def moment(day: datetime.date, hour: int = 9) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time(hour, rng.randrange(60)), tzinfo=tz)

    demo_point = _demo_point(points)
    demo_station = stations[demo_point.township_id]
    point_staff = {demo_point.pk: users["point"]}
    station_staff = {demo_station.pk: users["station"]}
    villages_with_households = set(Household.objects.values_list("village_id", flat=True).distinct())
    for vid, p in points.items():
        if p.pk not in point_staff and vid in villages_with_households:
            point_staff[p.pk] = _staff_user(f"cp-{p.code[3:]}", roles.COLLECTION_POINT_STAFF, p, f"{p.name} 收购员")
    for s in stations.values():
        if s.pk not in station_staff:
            station_staff[s.pk] = _staff_user(f"st-{s.code[3:]}", roles.SORTING_STATION_STAFF, s, f"{s.name} 分拣员")
    inspector = users["county"]

    households = list(Household.objects.order_by("number").values_list("number", "village_id"))
    n_intakes = min(MAX_INTAKES, int(len(households) * INTAKES_PER_HOUSEHOLD))
    produce_codes = list(PRODUCE)
    produce_weights = [PRODUCE[c][4] for c in produce_codes]
    for i in range(n_intakes):
        number, village_id = households[i % len(households)] if i < len(households) else rng.choice(households)
        produce = rng.choices(produce_codes, weights=produce_weights)[0]
        grades = list(PRODUCE[produce][2])
        grade = rng.choices(grades, weights=[GRADE_SHARE[g] for g in grades])[0]
        lo, hi = PRODUCE[produce][3]
        weight = kg(Decimal(rng.randrange(lo * 10, hi * 10)) / 10 + Decimal(rng.randrange(0, 10)) / 100)
        point = points[village_id]
        day = season_start + datetime.timedelta(days=rng.randrange(season_days))
        intake_record(
            staff=point_staff[point.pk], client_id=uuid.uuid5(NAMESPACE, f"intake-{i}"), household_number=number,
            produce_code=produce, grade_code=grade, weight_kg=weight, at=moment(day, rng.randrange(8, 18)),
        )
    if stdout:
        stdout.write(f"  season: {n_intakes} intakes ({time.perf_counter() - started:.1f} s)")

    # Points ship everything they bought up to ten days before the end of the season; the rest stays.
    ship_day = season_start + datetime.timedelta(days=season_days - 10)
    cutoff = moment(ship_day, 6)
    shipments = 0
    for point in sorted(points.values(), key=lambda p: p.code):
        movements = LotMovement.objects.filter(facility=point, created_at__lt=cutoff)
        lots = {r["lot_id"]: r["q"] for r in movements.values("lot_id").annotate(q=Sum("quantity_kg")).filter(q__gt=0)}
        if not lots:
            continue
        lot_objs = Lot.objects.in_bulk(list(lots))
        lines = [(lot_objs[i], q) for i, q in sorted(lots.items())]
        shipment = shipment_dispatch(origin=point, lines=lines, author=point_staff[point.pk], at=moment(ship_day, 7))
        received, reasons = {}, {}
        if shipments % 12 == 5:  # now and then a sack splits on the mountain road
            line = shipment.lines.order_by("pk").first()
            short = min(Decimal("0.500"), line.dispatched / 2)
            received[line.pk] = line.dispatched - kg(short)
            reasons[line.pk] = "运输途中破袋"
        shipment_receive(shipment=shipment, received=received, loss_reasons=reasons, author=station_staff[point.ships_to_id],
                         at=moment(ship_day, 15))
        shipments += 1

    # Stations pack every SKU from the matching lots, in runs of up to 40 lots, losing ~2% as waste.
    pack_day = ship_day + datetime.timedelta(days=2)
    batches: list[PackedBatch] = []
    for station in sorted(stations.values(), key=lambda s: s.code):
        on_hand = _on_hand(station)
        if not on_hand:
            continue
        lots = Lot.objects.in_bulk(list(on_hand))
        for sku in skus:
            mine = sorted((i for i, lot in lots.items() if lot.grade_id == sku.grade_id), key=lambda i: i)
            for start in range(0, len(mine), LOTS_PER_RUN):
                chunk = mine[start:start + LOTS_PER_RUN]
                total = kg(sum(on_hand[i] for i in chunk))
                units = int(total * Decimal("0.98") / sku.unit_weight_kg)
                if units < 1:
                    continue
                waste = total - units * sku.unit_weight_kg
                batch = packing_run_complete(
                    station=station, sku=sku, inputs=[(lots[i], on_hand[i]) for i in chunk], units=units, waste_kg=waste,
                    author=station_staff[station.pk], at=moment(pack_day, 10),
                )
                batches.append(batch)
    for batch in batches:
        batch_inspect(batch=batch, passed=True, inspector=inspector, notes="农残、水分检测合格", at=moment(pack_day + datetime.timedelta(days=1), 11))

    # Stations send most of each batch to the supermarket, keeping a few units back.
    send_day = pack_day + datetime.timedelta(days=3)
    by_station: dict[int, list[PackedBatch]] = defaultdict(list)
    for b in batches:
        by_station[b.station_id].append(b)
    for n, station in enumerate(sorted(stations.values(), key=lambda s: s.code)):
        mine = by_station.get(station.pk)
        if not mine:
            continue
        lines = [(b, b.units - b.units // 5) for b in mine if b.units - b.units // 5 > 0]
        shipment = shipment_dispatch(origin=station, lines=lines, author=station_staff[station.pk], at=moment(send_day, 8))
        received, reasons = {}, {}
        if n == 3:
            line = shipment.lines.order_by("pk").first()
            if line.dispatched > 1:
                received[line.pk] = line.dispatched - 1
                reasons[line.pk] = "包装破损"
        shipment_receive(shipment=shipment, received=received, loss_reasons=reasons, author=users["shop"], at=moment(send_day, 16))
    seed_cash_advances(county=users["county"])
    if stdout:
        stdout.write(
            f"  {shipments} shipments to stations, {len(batches)} batches packed and inspected, sent on to {sm.name}"
            f" ({time.perf_counter() - started:.1f} s)"
        )
    return True


def seed_cash_advances(*, county) -> int:
    """Cash for each point's season, advanced the morning of its first intake: what it paid out,
    rounded up to the thousand, and a thousand more — so every cash sheet balances above zero."""
    firsts = {}
    for point_id, at in Intake.objects.order_by("collection_point_id", "created_at").values_list("collection_point_id", "created_at"):
        firsts.setdefault(point_id, at)
    totals = dict(Intake.objects.values("collection_point_id").annotate(t=Sum("amount")).values_list("collection_point_id", "t"))
    points = Facility.objects.in_bulk(list(firsts))
    for point_id, first in firsts.items():
        amount = (Decimal(totals[point_id]) // 1000 + 2) * 1000
        morning = timezone.localtime(first).replace(hour=7, minute=0, second=0, microsecond=0)
        cash_advance_record(point=points[point_id], amount=amount, author=county, note="收购季备用金", at=min(morning, first))
    return len(firsts)


def seed_stocktake(*, users: dict) -> bool:
    """A finished stock-take at the demo station: one unit found damaged and missing, the rest as
    booked; counted, submitted, approved by the county office. False if one is already there."""
    from .models import StockTake
    from .services.stocktake import stocktake_approve, stocktake_count, stocktake_open, stocktake_submit

    staff, county = users.get("station"), users.get("county")
    facility = StaffAssignment.objects.filter(user=staff).values_list("facility", flat=True).first()
    if staff is None or county is None or facility is None or StockTake.objects.filter(facility_id=facility).exists():
        return False
    if not BatchStock.objects.filter(facility_id=facility, quantity__gt=0).exists():
        return False
    stocktake = stocktake_open(facility=Facility.objects.get(pk=facility), author=staff, note="月末盘点")
    lines = list(stocktake.lines.order_by("pk"))
    counts = {line.pk: line.book_at_open for line in lines}
    counts[lines[0].pk] = max(lines[0].book_at_open - 1, 0)
    stocktake_count(stocktake=stocktake, counts=counts, author=staff)
    stocktake_submit(stocktake=stocktake, author=staff)
    stocktake_approve(stocktake=stocktake, author=county)
    return True


def seed(*, households: int = 2000, stdout=None, context: dict | None = None) -> dict:
    context = context or {}
    users = context.get("users") or {}
    with transaction.atomic():
        sm, stations, points = seed_facilities()
        skus = seed_produce(users.get("county"))
        if users:
            demo_point = _demo_point(points) if Household.objects.exists() else next(iter(points.values()))
            StaffAssignment.objects.update_or_create(user=users["point"], defaults={"facility": demo_point})
            StaffAssignment.objects.update_or_create(user=users["station"], defaults={"facility": stations[demo_point.township_id]})
            StaffAssignment.objects.update_or_create(user=users["shop"], defaults={"facility": sm})
            if "cashier" in users:
                StaffAssignment.objects.update_or_create(user=users["cashier"], defaults={"facility": sm})
            if Household.objects.exists():
                seed_season(users=users, sm=sm, stations=stations, points=points, skus=skus, stdout=stdout)
                seed_stocktake(users=users)
    if stdout:
        stdout.write(
            f"logistics: {len(points)} collection points, {len(stations)} stations, 1 supermarket, {len(skus)} SKUs, "
            f"{Intake.objects.count()} intakes, {PackedBatch.objects.count()} batches"
        )
    return {"supermarket": sm, "skus": skus}
