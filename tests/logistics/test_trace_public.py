"""The public trace page: origin in aggregate, never a person's data; a friendly 404."""

import re

import pytest

from logistics.services.batches import batch_inspect
from tests.logistics.chain_factories import chain

pytestmark = pytest.mark.django_db


def test_the_public_page_shows_origin_and_dates_but_no_personal_data(client):
    c = chain()
    a = c.intake(c.households[0], weight_kg="10")
    b = c.intake(c.households[1], weight_kg="10")
    c.ship_to_station([(a, "10"), (b, "10")])
    batch = c.pack([(a, "10"), (b, "10")], units=8)
    batch_inspect(batch=batch, passed=True, inspector=c.county)
    r = client.get(f"/trace/{batch.code}/")
    assert r.status_code == 200
    html = r.content.decode()
    assert c.sku.name in html and "一级" in html
    assert c.households[0].village.name in html and c.households[0].village.township.name in html
    assert c.station.name in html
    assert "2 户" in html  # two households
    for h in c.households:
        assert h.head_name not in html
        # not whole, and not masked either (masking keeps the last four digits after stars);
        # the bare last four digits alone may occur by chance in a code or a date
        assert h.id_number not in html and not re.search(r"[*＊]+\s*" + re.escape(h.id_number[-4:]), html)
        assert h.number not in html
        assert h.phone not in html
    for lot in (a, b):
        assert lot.code not in html
    assert c.point_staff.username not in html


def test_an_unknown_code_gets_a_friendly_404(client):
    r = client.get("/trace/NOT-A-BATCH/")
    assert r.status_code == 404
    assert "NOT-A-BATCH" in r.content.decode()
    assert r.templates and r.templates[0].name == "logistics/trace_not_found.html"


def test_a_held_batch_says_it_is_recalled(client):
    from logistics.services.batches import batch_hold

    c = chain()
    (a,) = c.lots_at_station(1, weight_kg="5")
    batch = c.pack([(a, "5")], units=2)
    batch_hold(batch=batch, reason="复检", author=c.county)
    html = client.get(f"/trace/{batch.code}/").content.decode()
    assert 'role="alert"' in html
