"""A whole chain ready to use: a point, its township's station, the supermarket, staff at each,
the county office, chestnut with grades and prices, households, and a SKU — plus helpers that
run lots through it via the services (intake_record, shipments, packing)."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from core import roles
from households.models import Household
from logistics.models import Facility, Grade, Lot, PackedBatch, PurchasePrice, Shipment, Sku
from logistics.services.intake import intake_record
from logistics.services.packing import packing_run_complete
from logistics.services.shipments import shipment_dispatch, shipment_receive
from tests.households.factories import HouseholdFactory, UserFactory, VillageFactory
from tests.logistics.factories import (
    CollectionPointFactory,
    GradeFactory,
    ProduceFactory,
    PurchasePriceFactory,
    SkuFactory,
    staff_at,
)

PRICE_FROM = datetime.date(2020, 1, 1)


def chestnut_grades() -> dict[str, Grade]:
    chestnut = ProduceFactory(code="chestnut", name="板栗")
    grades = {
        "premium": GradeFactory(produce=chestnut, code="premium", name="特级", rank=1),
        "grade1": GradeFactory(produce=chestnut, code="grade1", name="一级", rank=2),
        "grade2": GradeFactory(produce=chestnut, code="grade2", name="二级", rank=3),
    }
    for code, price in (("premium", "40.00"), ("grade1", "12.00"), ("grade2", "8.00")):
        if not PurchasePrice.objects.filter(grade=grades[code], effective_from=PRICE_FROM).exists():
            PurchasePriceFactory(grade=grades[code], price_per_kg=Decimal(price), effective_from=PRICE_FROM)
    return grades


@dataclass
class Chain:
    point: Facility
    station: Facility
    supermarket: Facility
    point_staff: object
    station_staff: object
    shop_staff: object
    county: object
    households: list[Household]
    grades: dict[str, Grade]
    sku: Sku
    other_point: Facility | None = None
    other_point_staff: object = None
    extra: dict = field(default_factory=dict)

    def intake(self, household: Household | None = None, weight_kg="10.000", grade: str = "grade1", at=None, point_staff=None) -> Lot:
        intake, _created = intake_record(
            staff=point_staff or self.point_staff,
            client_id=uuid.uuid4(),
            household_number=(household or self.households[0]).number,
            produce_code="chestnut",
            grade_code=grade,
            weight_kg=str(weight_kg),
            at=at,
        )
        return intake.lot

    def ship_to_station(self, lots_kg: list, received: dict | None = None, reasons: dict | None = None) -> Shipment:
        shipment = shipment_dispatch(origin=self.point, lines=lots_kg, author=self.point_staff)
        return shipment_receive(shipment=shipment, received=received or {}, loss_reasons=reasons or {}, author=self.station_staff)

    def pack(self, inputs: list, units: int, waste_kg="0", **kw) -> PackedBatch:
        return packing_run_complete(station=self.station, sku=self.sku, inputs=inputs, units=units, waste_kg=waste_kg,
                                    author=self.station_staff, **kw)

    def lots_at_station(self, n: int = 2, weight_kg="10.000") -> list[Lot]:
        lots = [self.intake(self.households[i % len(self.households)], weight_kg=weight_kg) for i in range(n)]
        self.ship_to_station([(lot, lot.weight_kg) for lot in lots])
        return lots


def chain(*, households: int = 3) -> Chain:
    village = VillageFactory()
    point = CollectionPointFactory(village=village)
    station = point.ships_to
    supermarket = station.ships_to
    other_village = VillageFactory(township=village.township)
    other_point = CollectionPointFactory(village=other_village)
    grades = chestnut_grades()
    sku = SkuFactory(produce=grades["grade1"].produce, grade=grades["grade1"], unit_weight_kg=Decimal("2.500"),
                     name="镇安板栗 2.5 kg 礼盒")
    return Chain(
        point=point,
        station=station,
        supermarket=supermarket,
        point_staff=staff_at(point, roles.COLLECTION_POINT_STAFF),
        station_staff=staff_at(station, roles.SORTING_STATION_STAFF),
        shop_staff=staff_at(supermarket, roles.SUPERMARKET_STAFF),
        county=UserFactory(role=roles.COUNTY_OFFICE),
        households=[HouseholdFactory(village=village) for _ in range(households)],
        grades=grades,
        sku=sku,
        other_point=other_point,
        other_point_staff=staff_at(other_point, roles.COLLECTION_POINT_STAFF),
    )
