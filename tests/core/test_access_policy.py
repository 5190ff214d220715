"""The access policy (core/access.py and each app's access.py): what each role sees, the same set
from the admin and the API, traces inside the scope only, menus only for what a role may use."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core import roles
from core.access import Scope
from households.access import households_visible_to, townships_visible_to, villages_visible_to
from households.models import Household, Village
from logistics.access import batches_visible_to, lots_visible_to, shipments_visible_to
from marketplace.access import orders_visible_to
from tests.access_world import build_world
from tests.households.factories import HouseholdFactory, UserFactory, VillageFactory
from tests.households.sheets import read_xlsx
from tests.logistics.factories import CollectionPointFactory, staff_at

pytestmark = pytest.mark.django_db

HOUSEHOLDS = "wagtailsnippets_households_household"


@pytest.fixture
def county_map():
    """A point serving two villages of its township (not a third), and another township."""
    own = VillageFactory()
    also_served = VillageFactory(township=own.township)
    not_served = VillageFactory(township=own.township)
    elsewhere = VillageFactory()
    point = CollectionPointFactory(village=own, serves=[own, also_served])
    households = {
        "own": [HouseholdFactory(village=own) for _ in range(3)],
        "also_served": [HouseholdFactory(village=also_served) for _ in range(2)],
        "not_served": [HouseholdFactory(village=not_served) for _ in range(2)],
        "elsewhere": [HouseholdFactory(village=elsewhere) for _ in range(2)],
    }
    return {
        "point": point, "staff": staff_at(point, roles.COLLECTION_POINT_STAFF), "households": households,
        "villages": {"own": own, "also_served": also_served, "not_served": not_served, "elsewhere": elsewhere},
    }


def _numbers_in(html: str) -> set[str]:
    return {number for number in Household.objects.values_list("number", flat=True) if number in html}


def _api_numbers(client, **params) -> set[str]:
    response = client.get("/api/v1/households/", {"limit": 1000, **params})
    assert response.status_code == 200
    return {row["number"] for row in response.json()["results"]}


def test_a_points_admin_household_list_search_filters_and_export_show_exactly_the_api_set(client, county_map):
    served = {h.number for key in ("own", "also_served") for h in county_map["households"][key]}
    client.force_login(county_map["staff"])
    api = _api_numbers(client)
    assert api == served

    listing = client.get(reverse(f"{HOUSEHOLDS}:list"))
    assert listing.status_code == 200
    assert _numbers_in(listing.content.decode()) == api
    assert _numbers_in(client.get(reverse(f"{HOUSEHOLDS}:list_results")).content.decode()) == api

    # search: a name every household shares finds only the served ones; another village's number, none
    assert _numbers_in(client.get(reverse(f"{HOUSEHOLDS}:list"), {"q": "户主"}).content.decode()) == api
    outsider = county_map["households"]["elsewhere"][0]
    found = client.get(reverse(f"{HOUSEHOLDS}:list"), {"q": outsider.number}).content.decode()
    assert _numbers_in(found.replace(f'value="{outsider.number}"', "")) <= {outsider.number}  # the search box echoes it
    assert outsider.head_name not in found and reverse(f"{HOUSEHOLDS}:edit", args=[outsider.pk]) not in found
    assert _api_numbers(client, search=outsider.number) == set()

    # filters: the served village narrows; a village or township outside the scope is no choice at all
    also = county_map["villages"]["also_served"]
    expected = {h.number for h in county_map["households"]["also_served"]}
    assert _numbers_in(client.get(reverse(f"{HOUSEHOLDS}:list"), {"village": also.pk}).content.decode()) == expected
    outside = {h.number for key in ("not_served", "elsewhere") for h in county_map["households"][key]}
    for params in ({"village": county_map["villages"]["not_served"].pk}, {"township": county_map["villages"]["elsewhere"].township_id}):
        # Wagtail reports the refused choice and keeps the unfiltered (in-scope) listing
        assert _numbers_in(client.get(reverse(f"{HOUSEHOLDS}:list"), params).content.decode()) <= api
    assert not outside & api

    # the Excel export: the same rows, with and without a filter
    rows = read_xlsx(client.get(reverse("households_export")).content)
    assert {row[0] for row in rows[1:]} == api
    rows = read_xlsx(client.get(reverse("households_export"), {"township": county_map["villages"]["elsewhere"].township_id}).content)
    assert rows[1:] == []


def test_a_point_gets_404_for_any_view_of_a_household_outside_its_villages(client, county_map):
    outsider = county_map["households"]["not_served"][0]
    client.force_login(county_map["staff"])
    for view in ("inspect", "edit", "history", "usage"):
        assert client.get(reverse(f"{HOUSEHOLDS}:{view}", args=[outsider.pk])).status_code == 404, view
    assert client.get(reverse("wagtailsnippetchoosers_households_household:chosen", args=[outsider.pk])).status_code == 404
    chooser = client.get(reverse("wagtailsnippetchoosers_households_household:choose")).content.decode()
    assert outsider.number not in chooser and county_map["households"]["own"][0].number in chooser
    own = county_map["households"]["own"][0]
    assert client.get(reverse(f"{HOUSEHOLDS}:inspect", args=[own.pk])).status_code == 200


def test_the_same_scope_answers_object_permissions_through_rules(county_map):
    staff = county_map["staff"]
    own, outsider = county_map["households"]["own"][0], county_map["households"]["elsewhere"][0]
    assert staff.has_perm("households.view_household", own)
    assert not staff.has_perm("households.view_household", outsider)
    assert not staff.has_perm("households.change_household", own)  # point staff may only look
    county = UserFactory(role=roles.COUNTY_OFFICE)
    assert county.has_perm("households.change_household", outsider)


def test_each_role_sees_its_own_part_of_the_registry():
    w = build_world()
    station_township = w.township_a
    assert set(villages_visible_to(w.users["point"])) == set(w.point_a.served_villages.all())
    assert set(villages_visible_to(w.users["station"])) == set(Village.objects.filter(township=station_township))
    assert set(townships_visible_to(w.users["station"])) == {station_township}
    for role in ("supermarket", "employee", "anonymous"):
        assert not households_visible_to(w.users[role]).exists(), role
    assert households_visible_to(w.users["county"]).count() == Household.objects.count()


def test_a_station_sees_its_townships_lots_batches_and_shipments_and_no_others():
    w = build_world()
    station = w.users["station"]
    assert w.lot_a in lots_visible_to(station) and w.lot_b not in lots_visible_to(station)
    assert w.batch_a in batches_visible_to(station) and w.batch_b not in batches_visible_to(station)
    assert w.shipment_a in shipments_visible_to(station) and w.shipment_b not in shipments_visible_to(station)
    shop = w.users["supermarket"]
    assert w.batch_a in batches_visible_to(shop) and w.batch_b not in batches_visible_to(shop)
    assert not lots_visible_to(shop).exists()


def test_an_employee_sees_only_their_own_orders_and_the_supermarket_all():
    w = build_world()
    assert list(orders_visible_to(w.users["employee"])) == [w.order_a]
    assert set(orders_visible_to(w.users["supermarket"])) == {w.order_a, w.order_b, w.delivery_b.sale}
    assert not orders_visible_to(w.users["station"]).exists()
    assert not orders_visible_to(w.users["canteen"]).exists()  # employer B's canteen's delivery is not its own


def test_as_station_lots_and_traces_of_other_townships_are_404(client):
    w = build_world()
    client.force_login(w.users["station"])
    assert client.get(reverse("lot:inspect", args=[w.lot_b.pk])).status_code == 404
    assert client.get(reverse("packedbatch:inspect", args=[w.batch_b.pk])).status_code == 404
    assert client.get(reverse("shipment:inspect", args=[w.shipment_b.pk])).status_code == 404
    for code in (w.lot_b.code, w.batch_b.code, w.household_b.number):
        assert client.get(f"/api/v1/trace/{code}/").status_code == 404, code
        assert client.get(f"/api/v1/trace/{code}/export.xlsx").status_code == 404, code
        page = client.get("/station/trace/", {"code": code}).content.decode()
        assert w.household_b.head_name not in page and w.lot_b.household.number not in page.replace(code, "")
    assert client.get(f"/station/batches/{w.batch_b.code}/").status_code == 404
    assert client.get(f"/station/batches/{w.batch_b.code}/labels.pdf").status_code == 404
    # and inside its township, the same requests answer
    assert client.get(reverse("lot:inspect", args=[w.lot_a.pk])).status_code == 200
    for code in (w.lot_a.code, w.batch_a.code, w.household_a.number):
        assert client.get(f"/api/v1/trace/{code}/").status_code == 200, code
    lots_page = client.get(reverse("lot:index")).content.decode()
    assert w.lot_a.code in lots_page and w.lot_b.code not in lots_page


def test_the_admin_menu_offers_a_role_only_what_it_may_use(client):
    w = build_world()
    client.force_login(w.users["supermarket"])
    home = client.get("/admin/").content.decode()
    assert reverse("packedbatch:index") in home and reverse("lot:index") not in home
    assert reverse(f"{HOUSEHOLDS}:list") not in home
    assert client.get(reverse("lot:index")).status_code in (302, 403)  # Wagtail's "permission denied"
    client.force_login(w.users["point"])
    home = client.get("/admin/").content.decode()
    assert reverse(f"{HOUSEHOLDS}:list") in home and reverse("packedbatch:index") not in home


def test_a_new_role_is_wired_in_by_extending_a_scope(county_map):
    """How a village-staff role (or an employer coordinator…) would join: one rule, no view edits."""
    village = county_map["villages"]["not_served"]
    clerk = UserFactory(username="village-clerk")

    def village_clerk(user):
        return Village.objects.filter(pk=village.pk) if user.pk == clerk.pk else None

    villages_visible_to.extend(village_clerk)
    try:
        assert {h.number for h in households_visible_to(clerk)} == {h.number for h in county_map["households"]["not_served"]}
        assert households_visible_to(county_map["staff"]).filter(village=village).count() == 0
    finally:
        villages_visible_to.retract(village_clerk)
    assert not households_visible_to(clerk).exists()


def test_a_scope_answers_nothing_for_a_primary_key_that_cannot_be_one():
    scope = Scope(Household)
    county = UserFactory(role=roles.COUNTY_OFFICE)
    assert scope.contains(county, "not-a-number") is False
    assert scope.get(county, pk="x") is None
