"""A small county for the access tests: two townships, each with a collection point, a station, a
household and its lot and batch; the supermarket; two employees with an order each; a settlement
run with a payout per household; watch-list entries. Signed in as each demo role, and — the point
of it — for every kind of object, which object lies OUTSIDE each role's scope.

Love points: township B's village has village staff, and an award for household B.

Roles: ``county`` (the county office), ``point`` (staff of township A's point), ``station``
(staff of township A's station), ``supermarket`` (supermarket staff), ``employee`` (employee A),
``canteen`` (the buyer of employer A's canteen), ``anonymous``.

Canteens: employer A's and employer B's; B's has an order the supermarket delivered (its sale,
delivery and invoice), outside the canteen buyer's scope and the station's.

``world.outside(kind, role)`` is the object of ``kind`` the role must not reach (None: every object
of that kind is in the role's scope, e.g. the county office's). The table is written out by hand
(OUTSIDE below), not computed from the policy, so a policy that lets too much through fails.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from wagtail.models import Page

from core import roles
from core.models import SpreadsheetImport
from households.models import WatchListEntry
from logistics.models import Intake
from logistics.services.batches import batch_inspect
from logistics.services.shipments import shipment_dispatch, shipment_receive
from logistics.services.stocktake import stocktake_open
from lovepoints import services as love_points
from marketplace.canteens.services import canteen_delivery_record, canteen_order_place
from marketplace.models import Order
from marketplace.settlement.models import Payout, SettlementRun
from tests.canteens.factories import buyer, canteen
from tests.logistics.chain_factories import chain
from tests.lovepoints.factories import last_month, village_staff
from tests.marketplace.factories import EmployeeFactory, EmployerFactory, ProductFactory

ROLES = ("county", "point", "station", "supermarket", "employee", "canteen", "anonymous")

# kind -> role -> the attribute of World holding the object outside that role's scope
# (absent or None: nothing of that kind is outside the role's scope).
OUTSIDE: dict[str, dict[str, str | None]] = {
    "household": {"canteen": "household_a", "point": "household_b", "station": "household_b", "supermarket": "household_a",
                  "employee": "household_a", "anonymous": "household_a"},
    "village": {"canteen": "village_a", "point": "village_b", "station": "village_b", "supermarket": "village_a", "employee": "village_a",
                "anonymous": "village_a"},
    "township": {"canteen": "township_a", "point": "township_b", "station": "township_b", "supermarket": "township_a",
                 "employee": "township_a", "anonymous": "township_a"},
    "facility": {"canteen": "point_a", "point": "point_b", "station": "station_b", "supermarket": "point_b", "employee": "point_a",
                 "anonymous": "point_a"},
    "lot": {"canteen": "lot_a", "point": "lot_b", "station": "lot_b", "supermarket": "lot_a", "employee": "lot_a", "anonymous": "lot_a"},
    "batch": {"canteen": "batch_a", "point": "batch_a", "station": "batch_b", "supermarket": "batch_b", "employee": "batch_a",
              "anonymous": "batch_a"},
    "shipment": {"canteen": "shipment_a", "point": "shipment_b", "station": "shipment_b", "supermarket": "shipment_b",
                 "employee": "shipment_a", "anonymous": "shipment_a"},
    "order": {"canteen": "order_a", "point": "order_a", "station": "order_a", "employee": "order_b", "anonymous": "order_a"},
    "employee": {"canteen": "employee_a", "point": "employee_a", "station": "employee_a", "employee": "employee_b", "anonymous": "employee_a"},
    "employer": {"canteen": "employer_b", "point": "employer_a", "station": "employer_a", "employee": "employer_b", "anonymous": "employer_a"},
    "payout": {"canteen": "payout_a", "point": "payout_a", "station": "payout_b", "supermarket": "payout_a", "employee": "payout_a",
               "anonymous": "payout_a"},
    # the run is county-wide: a station may open it and sees only its township's rows (the marker
    # is township B's payout, which must not show)
    "run": {"canteen": "run", "point": "run", "station": "run", "supermarket": "run", "employee": "run", "anonymous": "run"},
    "watch_entry": {r: "watch_b" for r in ("point", "station", "supermarket", "employee", "canteen", "anonymous")},
    "award": {r: "award_b" for r in ("point", "station", "supermarket", "employee", "canteen", "anonymous")},
    # township B's station's stock-take: its own staff and the county office only
    "canteen": {"point": "canteen_b", "station": "canteen_b", "employee": "canteen_b", "canteen": "canteen_b",
                "anonymous": "canteen_b"},
    "canteen_order": {"point": "canteen_order_b", "station": "canteen_order_b", "employee": "canteen_order_b",
                      "canteen": "canteen_order_b", "anonymous": "canteen_order_b"},
    "canteen_delivery": {"point": "delivery_b", "station": "delivery_b", "employee": "delivery_b", "canteen": "delivery_b",
                         "anonymous": "delivery_b"},
    "canteen_invoice": {"point": "invoice_b", "station": "invoice_b", "employee": "invoice_b", "canteen": "invoice_b",
                        "anonymous": "invoice_b"},
    "stocktake": {r: "stocktake_b" for r in ("point", "station", "supermarket", "employee", "canteen", "anonymous")},
    # the CMS, Wagtail's users and groups, the Django admin: the county office's (and Wagtail's own
    # permission checks); for the Django admin even the county office is refused (not is_staff)
    "page": {r: "home_page" for r in ("point", "station", "supermarket", "employee", "canteen", "anonymous")},
    # the personal-data access log: the county office's alone
    "access_log_entry": {r: "access_entry" for r in ("point", "station", "supermarket", "employee", "canteen", "anonymous")},
    "user": {r: "county_user" for r in ("point", "station", "supermarket", "employee", "canteen", "anonymous")},
    "admin_user": {r: "county_user" for r in ROLES},
    # a registry import: the county office's (whoever may import households)
    "spreadsheet_import": {r: "import_job" for r in ("point", "station", "supermarket", "employee", "canteen", "anonymous")},
    # an employer's fapiao request: its coordinator's, the supermarket's (it issues them) and the county office's
    "fapiao": {r: "fapiao_a" for r in ("point", "station", "employee", "canteen", "anonymous")},
}

# What must not appear in a response for an object of each kind (beyond a refusal status).
MARKERS = {
    "household": lambda o: [o.number, o.id_number, o.head_name],
    "village": lambda o: [o.code],
    "township": lambda o: [o.code],
    "facility": lambda o: [o.code],
    "lot": lambda o: [o.code, o.household.number],
    "batch": lambda o: [o.code, *o.shares.values_list("household__number", flat=True)],
    "shipment": lambda o: [o.code],
    "order": lambda o: [o.number],
    "employee": lambda o: [o.staff_number],
    "employer": lambda o: [o.code],
    "payout": lambda o: [o.household.number],
    "run": lambda o: [],  # see World.markers
    "watch_entry": lambda o: [o.household.number],
    "award": lambda o: [o.household.number],
    "stocktake": lambda o: [o.code],
    "canteen": lambda o: [o.code],
    "canteen_order": lambda o: [o.number],
    "canteen_delivery": lambda o: [o.number],
    "canteen_invoice": lambda o: [o.number],
    "page": lambda o: [],
    "access_log_entry": lambda o: [o.username, *o.households],
    "user": lambda o: [o.email] if o.email else [],
    "admin_user": lambda o: [o.email] if o.email else [],
    "spreadsheet_import": lambda o: [o.original_name],
    "fapiao": lambda o: [o.tax_number],
}


@dataclass
class World:
    users: dict[str, object] = field(default_factory=dict)
    objects: dict[str, object] = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.__dict__["objects"][name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    def outside(self, kind: str, role: str):
        if kind not in OUTSIDE:
            raise KeyError(f"no object kind {kind!r} in tests/access_world.py OUTSIDE")
        attr = OUTSIDE[kind].get(role)
        return None if attr is None else self.objects[attr]

    def markers(self, kind: str, obj) -> list[str]:
        if kind == "run":  # a run's list must not show township B's payout to township A's station
            return [self.objects["payout_b"].household.number]
        return [m for m in MARKERS[kind](obj) if m]


def build_world() -> World:
    from core.models import PersonalDataAccess

    a = chain(households=1)
    b = chain(households=1)
    w = World()
    o = w.objects
    o.update(
        township_a=a.point.township, township_b=b.point.township, village_a=a.point.village, village_b=b.point.village,
        point_a=a.point, point_b=b.point, station_a=a.station, station_b=b.station, supermarket=a.supermarket,
        household_a=a.households[0], household_b=b.households[0],
    )
    o["lot_a"] = a.intake(a.households[0], weight_kg="10")
    o["lot_b"] = b.intake(b.households[0], weight_kg="10")
    o["shipment_a"] = a.ship_to_station([(o["lot_a"], "10")])
    o["shipment_b"] = b.ship_to_station([(o["lot_b"], "10")])
    o["batch_a"] = a.pack([(o["lot_a"], "10")], units=4)
    o["batch_b"] = b.pack([(o["lot_b"], "10")], units=4)
    batch_inspect(batch=o["batch_a"], passed=True, inspector=a.county)
    out = shipment_dispatch(origin=a.station, lines=[(o["batch_a"], 4)], author=a.station_staff)
    o["shipment_to_supermarket"] = shipment_receive(shipment=out, received={}, author=a.shop_staff)
    o["intake_a"] = Intake.objects.get(lot=o["lot_a"])
    o["stocktake_b"] = stocktake_open(facility=b.station, author=b.station_staff)

    o["employer_a"], o["employer_b"] = EmployerFactory(code="EMP-A", name="县甲局"), EmployerFactory(code="EMP-B", name="县乙局")
    o["employee_a"] = EmployeeFactory(employer=o["employer_a"], staff_number="SN-A-0001")
    o["employee_b"] = EmployeeFactory(employer=o["employer_b"], staff_number="SN-B-0002")
    o["product"] = ProductFactory()
    year = timezone.localdate().year
    for key, employee, number in (("order_a", o["employee_a"], "WALK-ORDER-A"), ("order_b", o["employee_b"], "WALK-ORDER-B")):
        o[key] = Order.objects.create(number=number, employee=employee, status=Order.Status.PAID, year=year,
                                      total=Decimal("10.00"), allocation_amount=Decimal("10.00"), card_amount=Decimal("0.00"),
                                      paid_at=timezone.now())
    o["run"] = SettlementRun.objects.create(code="RUN-WALK", cutoff=timezone.now(), status=SettlementRun.Status.COMPLETED)
    o["payout_a"] = Payout.objects.create(run=o["run"], household=o["household_a"], amount=Decimal("1.00"))
    o["payout_b"] = Payout.objects.create(run=o["run"], household=o["household_b"], amount=Decimal("2.00"))
    today = timezone.localdate()
    for key, household in (("watch_a", o["household_a"]), ("watch_b", o["household_b"])):
        o[key] = WatchListEntry.objects.create(
            household=household, reason=WatchListEntry.Reason.DECLINE, period_start=today - datetime.timedelta(days=90),
            period_end=today, income=Decimal("1.00"), income_year_before=Decimal("9.00"), drop_share=Decimal("0.8889"),
        )
    rules = love_points.rule_set_create(effective_from=datetime.date(2020, 1, 1), monthly_cap=30,
                                        categories=[("diligence", "勤劳致富", 10)], author=a.county)
    assert rules is not None
    o["award_b"], _created = love_points.award_record(
        author=village_staff(o["village_b"]), household=o["household_b"], month=last_month(), category_code="diligence",
        client_id=uuid.uuid4(),
    )
    o["import_job"] = SpreadsheetImport.objects.create(
        kind="households", original_name="walk-registry-import.xlsx", status=SpreadsheetImport.Status.REFUSED
    )
    from marketplace.models import FapiaoRequest

    o["fapiao_a"] = FapiaoRequest.objects.create(
        employer=o["employer_a"], year=2026, month=1, amount=100, title="县甲局", tax_number="91610000WALKFAPIA0",
        requested_by=a.county, status="issued", fapiao_number="12345678", issued_on=datetime.date(2026, 2, 1),
    )
    o["canteen_a"], o["canteen_b"] = (canteen("CT-WALK-A", employer=o["employer_a"]), canteen("CT-WALK-B", employer=o["employer_b"]))
    canteen_buyer = buyer(o["canteen_a"])
    ProductFactory(sku=o["batch_a"].sku, name=o["batch_a"].sku.name)
    o["canteen_order_b"] = canteen_order_place(
        canteen=o["canteen_b"], author=a.county, supplier=a.supermarket, delivery_date=today.isoformat(),
        lines=[{"product": o["batch_a"].sku.product.pk, "unit": "units", "quantity": "2"}],
    )
    o["delivery_b"] = canteen_delivery_record(order=o["canteen_order_b"], author=a.shop_staff,
                                              units={o["canteen_order_b"].lines.get().pk: "1"})
    o["invoice_b"] = o["delivery_b"].invoice
    o["home_page"] = Page.objects.filter(depth__gt=1).order_by("depth", "pk").first() or Page.objects.first()
    county = a.county
    county.email = "county-walk@example.cn"
    county.save(update_fields=["email"])
    o["county_user"] = county
    o["access_entry"] = PersonalDataAccess.objects.create(
        username="county-walk-reader", action="view", households=[o["household_b"].number], rows=1
    )

    w.users = {
        "county": county,
        "point": a.point_staff,
        "station": a.station_staff,
        "supermarket": a.shop_staff,
        "employee": o["employee_a"].user,
        "canteen": canteen_buyer,
        "anonymous": None,
    }
    assert roles.has_role(w.users["employee"], roles.EMPLOYEE)
    return w
