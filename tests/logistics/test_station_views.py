"""Station and supermarket screens: the forms call the services; a refused form comes back with
what was typed, its errors in the box at the top and on each wrong field; staff act only at their
own facility."""

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
    assert r.status_code == 400
    html = r.content.decode()
    box = html.split('class="error-summary"')[1].split("</div>")[0]
    assert a.code in box
    assert f'name="lot-{a.pk}" inputmode="decimal" placeholder="10" value="11" aria-invalid="true"' in html
    assert not Shipment.objects.exists()


def test_the_station_receives_with_a_loss_reason(client):
    c = chain()
    a = c.intake(weight_kg="10")
    shipment = shipment_dispatch(origin=c.point, lines=[(a, "10")], author=c.point_staff)
    line = shipment.lines.get()
    client.force_login(c.station_staff)
    assert shipment.code in client.get("/station/").content.decode()
    r = client.post(f"/station/shipments/{shipment.code}/receive/", {f"received-{line.pk}": "9.5", f"reason-{line.pk}": ""})
    assert r.status_code == 400  # refused: no reason
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



def _box(html: str) -> str:
    assert 'role="alert"' in html and "data-error-summary" in html
    return html.split('class="error-summary"')[1].split("</div>")[0]


def test_a_short_receipt_without_a_reason_keeps_the_short_quantity_and_then_records_the_loss(client):
    c = chain()
    a = c.intake(weight_kg="10")
    b = c.intake(weight_kg="4")
    shipment = shipment_dispatch(origin=c.point, lines=[(a, "10"), (b, "4")], author=c.point_staff)
    line_a, line_b = shipment.lines.order_by("pk")
    client.force_login(c.station_staff)
    url = f"/station/shipments/{shipment.code}/receive/"

    r = client.post(url, {f"received-{line_a.pk}": "8.2", f"reason-{line_a.pk}": "", f"received-{line_b.pk}": "4",
                          f"reason-{line_b.pk}": "备注"})

    assert r.status_code == 400
    html = r.content.decode()
    assert "1.8" in _box(html)
    assert 'value="8.2"' in html and 'value="备注"' in html  # typed values, not the dispatched 10
    assert f'id="reason-{line_a.pk}" name="reason-{line_a.pk}" maxlength="200" value="" aria-invalid="true"' in html
    assert Shipment.objects.get().status == Shipment.Status.DISPATCHED

    # the person adds the reason to the form as it came back, and confirms
    r = client.post(url, {f"received-{line_a.pk}": "8.2", f"reason-{line_a.pk}": "路上压坏", f"received-{line_b.pk}": "4",
                          f"reason-{line_b.pk}": "备注"})
    assert r.status_code == 302
    line_a.refresh_from_db()
    assert line_a.received == Decimal("8.200") and line_a.loss_reason == "路上压坏"
    assert lot_on_hand(facility_id=c.station.pk, lot_ids=[a.pk])[a.pk] == Decimal("8.200")


def test_a_blank_received_quantity_is_asked_for_never_read_as_a_full_receipt(client):
    c = chain()
    a = c.intake(weight_kg="10")
    shipment = shipment_dispatch(origin=c.point, lines=[(a, "10")], author=c.point_staff)
    line = shipment.lines.get()
    client.force_login(c.station_staff)
    r = client.post(f"/station/shipments/{shipment.code}/receive/", {f"received-{line.pk}": "", f"reason-{line.pk}": ""})
    assert r.status_code == 400
    assert f'id="received-{line.pk}"' in _box(r.content.decode()) or f"#received-{line.pk}" in _box(r.content.decode())
    assert Shipment.objects.get().status == Shipment.Status.DISPATCHED


def test_the_receive_form_starts_at_the_dispatched_quantity(client):
    c = chain()
    a = c.intake(weight_kg="10")
    shipment = shipment_dispatch(origin=c.point, lines=[(a, "10")], author=c.point_staff)
    line = shipment.lines.get()
    client.force_login(c.station_staff)
    html = client.get(f"/station/shipments/{shipment.code}/receive/").content.decode()
    assert f'name="received-{line.pk}" inputmode="decimal" value="10"' in html
    assert "data-error-summary>" not in html


def test_a_refused_loss_keeps_the_lot_weight_and_reason_and_marks_the_weight(client):
    c = chain()
    a = c.intake(weight_kg="10")
    b = c.intake(weight_kg="3")
    client.force_login(c.point_staff)
    r = client.post("/station/loss/", {"lot": b.code, "weight_kg": "abc", "reason": "霉变"})
    assert r.status_code == 400
    html = r.content.decode()
    assert "abc" in _box(html)
    assert f'<option value="{b.code}" selected>' in html and f'<option value="{a.code}">' in html
    assert 'value="abc" aria-invalid="true"' in html and 'value="霉变"' in html


def test_a_refused_packing_run_keeps_every_input(client):
    c = chain()
    a = c.intake(weight_kg="10")
    shipment = shipment_dispatch(origin=c.point, lines=[(a, "10")], author=c.point_staff)
    line = shipment.lines.get()
    client.force_login(c.station_staff)
    client.post(f"/station/shipments/{shipment.code}/receive/", {f"received-{line.pk}": "10"})
    sku = c.sku
    r = client.post("/station/pack/", {"sku": sku.pk, f"lot-{a.pk}": "12", "units": "3", "unit_weight_kg": "2.5",
                                       "waste_kg": "0.5", "best_before": ""})
    assert r.status_code == 400
    html = r.content.decode()
    assert a.code in _box(html)
    assert f'name="lot-{a.pk}" inputmode="decimal" value="12" aria-invalid="true"' in html
    assert 'name="units" inputmode="numeric" required value="3"' in html and 'value="0.5"' in html
    assert not PackedBatch.objects.exists()


def test_a_hold_without_a_reason_is_marked_on_the_reason_field(client):
    c = chain()
    lots = c.lots_at_station(1)
    batch = c.pack([(lots[0], "10")], units=4)
    client.force_login(c.station_staff)
    r = client.post(f"/station/batches/{batch.code}/", {"action": "hold", "reason": "  "})
    assert r.status_code == 400
    html = r.content.decode()
    assert _box(html)
    assert 'id="reason" name="reason" maxlength="200" required value="  " aria-invalid="true"' in html
