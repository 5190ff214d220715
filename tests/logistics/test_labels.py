"""The QR label sheet: a PDF for a batch, for its station's staff and the county office."""

import pytest

from core import roles
from logistics.labels import batch_labels_pdf
from tests.households.factories import UserFactory
from tests.logistics.chain_factories import chain
from tests.logistics.factories import StationFactory

pytestmark = pytest.mark.django_db


def _batch(c, units=12):
    (a,) = c.lots_at_station(1, weight_kg=str(units * 2.5))
    return c.pack([(a, str(units * 2.5))], units=units)


def test_the_label_sheet_is_a_pdf_naming_the_batch(client):
    c = chain()
    batch = _batch(c)
    client.force_login(c.station_staff)
    r = client.get(f"/station/batches/{batch.code}/labels.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    assert batch.code.encode() in r.content
    assert f"/trace/{batch.code}/".encode() in r.content  # the QR's URL, in the document's subject
    assert r.content.count(b"/Type /Page\n") + r.content.count(b"/Type /Page ") >= 2  # 12 labels, 10 a page


def test_labels_are_for_the_station_and_county_only(client):
    c = chain()
    batch = _batch(c, units=2)
    for user in (c.point_staff, c.shop_staff, UserFactory(role=roles.EMPLOYEE)):
        client.force_login(user)
        assert client.get(f"/station/batches/{batch.code}/labels.pdf").status_code == 403
    other_station = StationFactory()
    from tests.logistics.factories import staff_at

    client.force_login(staff_at(other_station, roles.SORTING_STATION_STAFF))
    # another township's batch is outside that station's scope: not found (logistics/access.py)
    assert client.get(f"/station/batches/{batch.code}/labels.pdf").status_code == 404
    client.force_login(c.county)
    assert client.get(f"/station/batches/{batch.code}/labels.pdf").status_code == 200


def test_the_label_count_defaults_to_the_units_and_can_be_chosen():
    c = chain()
    batch = _batch(c, units=3)
    pdf = batch_labels_pdf(batch=batch, trace_url="https://example.org/trace/x/", count=25)
    assert pdf.startswith(b"%PDF-") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") == 3
