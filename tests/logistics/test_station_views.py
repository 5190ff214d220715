"""Station and supermarket screens: the forms call the services; errors become messages; staff
act only at their own facility."""

from decimal import Decimal

import pytest

from core import roles
from logistics.models import BatchStock, PackedBatch, Shipment
from logistics.selectors.lots import lot_on_hand
from logistics.services.shipments import shipment_dispatch
from tests.households.factories import UserFactory
from tests.logistics.chain_factories import chain
from tests.logistics.factories import StationFactory, staff_at

pytestmark = pytest.mark.django_db


def test_a_point_dispatches_lots_from_its_phone(client):
    c = chain()
    a = c.intake(weight_kg="10")
    client.force_login(c.point_staff)
    page = client.get("/station/dispatch/")
    assert page.status_code == 200 and a.code in page.content.decode()
    r = client.post("/station/dispatch/", {f"lot-{a.pk}": "10"})
    assert r.status_code == 302
    assert Shipment.objects.get().destination == c.station


def test_a_dispatch_over_stock_shows_the_error_and_writes_nothing(client):
    c = chain()
    a = c.intake(weight_kg="10")
    client.force_login(c.point_staff)
    r = client.post("/station/dispatch/", {f"lot-{a.pk}": "11"})
    assert r.status_code == 200
    assert a.code in "".join(str(m) for m in r.context["messages"])
    assert not Shipment.objects.exists()


def test_the_station_receives_with_a_loss_reason(client):
    c = chain()
    a = c.intake(weight_kg="10")
    shipment = shipment_dispatch(origin=c.point, lines=[(a, "10")], author=c.point_staff)
    line = shipment.lines.get()
    client.force_login(c.station_staff)
    assert shipment.code in client.get("/station/").content.decode()
    r = client.post(f"/station/shipments/{shipment.code}/receive/", {f"received-{line.pk}": "9.5", f"reason-{line.pk}": ""})
    assert r.status_code == 200  # refused: no reason
    r = client.post(f"/station/shipments/{shipment.code}/receive/", {f"received-{line.pk}": "9.5", f"reason-{line.pk}": "破袋"})
    assert r.status_code == 302
    assert lot_on_hand(facility_id=c.station.pk, lot_ids=[a.pk])[a.pk] == Decimal("9.500")


def test_another_townships_station_cannot_see_or_receive_the_shipment(client):
    c = chain()
    a = c.intake(weight_kg="10")
    shipment = shipment_dispatch(origin=c.point, lines=[(a, "10")], author=c.point_staff)
    client.force_login(staff_at(StationFactory(), roles.SORTING_STATION_STAFF))
    assert client.get(f"/station/shipments/{shipment.code}/receive/").status_code == 404
    assert client.post(f"/station/shipments/{shipment.code}/receive/", {}).status_code == 404
    shipment.refresh_from_db()
    assert shipment.status == shipment.Status.DISPATCHED


def test_the_station_records_a_packing_run_and_inspects_and_holds_the_batch(client):
    c = chain()
    a, b = c.lots_at_station(2, weight_kg="10")
    client.force_login(c.station_staff)
    page = client.get(f"/station/pack/?sku={c.sku.pk}")
    assert a.code in page.content.decode()
    r = client.post("/station/pack/", {"sku": c.sku.pk, f"lot-{a.pk}": "10", f"lot-{b.pk}": "10", "units": "7", "waste_kg": "2.5"})
    assert r.status_code == 302
    batch = PackedBatch.objects.get()
    assert BatchStock.objects.get(batch=batch, facility=c.station).quantity == 7
    url = f"/station/batches/{batch.code}/"
    assert client.post(url, {"action": "inspect", "passed": "yes", "notes": ""}).status_code == 302
    assert client.post(url, {"action": "hold", "reason": "农残复检"}).status_code == 302
    batch.refresh_from_db()
    assert batch.inspection_status == "passed" and batch.on_hold and batch.hold_reason == "农残复检"
    page = client.get(url).content.decode()
    assert c.station.name in page  # whom to notify: where the units are


def test_employees_do_not_see_station_screens(client):
    chain()
    client.force_login(UserFactory(role=roles.EMPLOYEE))
    for url in ("/station/", "/station/dispatch/", "/station/pack/", "/station/trace/"):
        assert client.get(url).status_code == 403


def test_the_county_office_picks_a_facility(client):
    c = chain()
    client.force_login(c.county)
    assert c.station.name in client.get("/station/").content.decode()  # the chooser
    page = client.get(f"/station/?facility={c.station.code}")
    assert page.status_code == 200 and page.context["facility"] == c.station


def test_staff_trace_lookup_page(client):
    c = chain()
    (a,) = c.lots_at_station(1, weight_kg="5")
    batch = c.pack([(a, "5")], units=2)
    client.force_login(c.station_staff)
    page = client.get(f"/station/trace/?code={batch.code}").content.decode()
    assert a.code in page and "包装产出" in page and "transformation_output" not in page
