"""A paged trace (the API, the staff page) reads its summary with aggregate SQL and only the rows
of the page it answers; the full trace (the .xlsx export) reads every row. The two must agree:
the same summary, and page (offset, limit) holding the full trace's events[offset:offset + limit]
and the same slice of each list — over lots, batches, lines and inspections that tie on the
second, a lot split over batches, losses in kg and in units, and a failed inspection."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from logistics.selectors import trace as trace_selectors
from logistics.selectors.trace import trace_batch, trace_household, trace_lot
from logistics.services.batches import batch_inspect
from logistics.services.shipments import shipment_dispatch, shipment_receive
from tests.logistics.chain_factories import chain

pytestmark = pytest.mark.django_db

LISTS = ("lots", "batches", "shipments", "stock", "extra")


def _season():
    """Two households' lots over a few seconds: ties on the second between kinds and within one."""
    c = chain(households=3)
    h0, h1, _h2 = c.households
    t0 = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=2)

    def at(seconds, micro=0):
        return t0 + datetime.timedelta(seconds=seconds, microseconds=micro)

    lots0 = [c.intake(h0, weight_kg=f"{5 + i}.5", at=at(i // 2, 1000 * i)) for i in range(7)]  # two a second
    lots1 = [c.intake(h1, weight_kg="4", at=at(0, 500)) for _ in range(3)]
    shipment = shipment_dispatch(origin=c.point, lines=[(lot, lot.weight_kg) for lot in lots0 + lots1], author=c.point_staff, at=at(10))
    short = shipment.lines.get(lot=lots0[1])
    shipment_receive(shipment=shipment, received={short.pk: "5.5"}, loss_reasons={short.pk: "破袋"}, author=c.station_staff, at=at(20))
    b1 = c.pack([(lots0[0], "5.5"), (lots0[2], "7.5"), (lots1[0], "4")], units=6, waste_kg="2", at=at(30))
    b2 = c.pack([(lots0[3], "8.5"), (lots0[5], "5")], units=5, waste_kg="1", at=at(30, 700))  # same second as b1
    b3 = c.pack([(lots0[5], "5.5"), (lots0[6], "11.5"), (lots1[1], "4")], units=8, waste_kg="1", at=at(31))  # lot 5 split over b2 and b3
    batch_inspect(batch=b1, passed=True, inspector=c.county, at=at(30, 900))  # ties with the packing
    batch_inspect(batch=b2, passed=False, notes="霉变", inspector=c.county, at=at(40))
    batch_inspect(batch=b3, passed=True, inspector=c.county, at=at(41))
    batch_inspect(batch=b3, passed=True, inspector=c.county, at=at(42))
    out = shipment_dispatch(origin=c.station, lines=[(b1, 4), (b3, 8)], author=c.station_staff, at=at(50))
    line = out.lines.get(batch=b3)
    shipment_receive(shipment=out, received={line.pk: 7}, loss_reasons={line.pk: "压坏"}, author=c.shop_staff, at=at(60))
    return c, (h0, h1), lots0 + lots1, (b1, b2, b3)


def _pages(full, paged, size):
    """Every page of ``size`` against the full trace."""
    total = full.events_total
    assert total == len(full.events)
    offset, seen = 0, []
    while True:
        page = paged(offset=offset, limit=size)
        assert page.summary == full.summary
        assert page.subject == full.subject
        assert page.events_total == total
        assert page.events == full.events[offset:offset + size], (offset, size)
        for name in LISTS:
            assert getattr(page, name) == getattr(full, name)[offset:offset + size], (name, offset, size)
        seen += page.events
        if page.next_offset is None:
            break
        assert page.next_offset == offset + size
        offset = page.next_offset
    assert seen == full.events
    assert offset + size >= max(total, *(len(getattr(full, name)) for name in LISTS))


@pytest.mark.parametrize("size", [1, 4, 50])
def test_every_page_is_the_full_traces_slice_with_the_same_summary(size):
    c, households, lots, batches = _season()
    subjects = [(trace_household, h) for h in households] + [(trace_lot, lot) for lot in lots[:7:2] + lots[5:6]] + [
        (trace_batch, b) for b in batches]

    def sales(batch_ids):  # a forward extension, as the marketplace's: one row per batch
        return [{"type": "sale", "batch_id": i} for i in sorted(batch_ids)]

    trace_selectors.register_forward_extension(sales)
    try:
        for fn, subject in subjects:
            full = fn(subject, limit=None)
            assert full.events_total > 0
            _pages(full, lambda offset, limit, fn=fn, subject=subject: fn(subject, offset=offset, limit=limit), size)
    finally:
        trace_selectors.unregister_forward_extension(sales)


def test_the_summary_adds_up_what_the_full_list_holds():
    c, (h0, _h1), lots, batches = _season()
    for t in (trace_household(h0, limit=None), trace_batch(batches[2], limit=None), trace_lot(lots[5], limit=None)):
        paged = {"batch": trace_batch, "lot": trace_lot, "household": trace_household}[t.kind]
        s = paged(_subject_of(t, h0, lots, batches), limit=2).summary
        by_kind = {}
        for e in t.events:
            by_kind.setdefault(e["event"], []).append(e)
        assert set(s["stages"]) == set(by_kind)
        for kind, events in by_kind.items():
            assert s["stages"][kind]["events"] == len(events)
        assert s["events"] == len(t.events)
        assert s["lots"] == len(t.lots) and s["batches"] == len(t.batches)
        assert s["households"] == len({row["household"] for row in t.lots})
        assert s["shipments"] == len({row["shipment"] for row in t.shipments})
    s = trace_household(h0, limit=5).summary
    assert s["loss"] == {"kg": "1.000", "units": 1}  # 6.5 kg sent, 5.5 received; 8 units sent, 7 received


def _subject_of(t, household, lots, batches):
    if t.kind == "household":
        return household
    if t.kind == "batch":
        return next(b for b in batches if b.code == t.code)
    return next(lot for lot in lots if lot.code == t.code)


def _statements(fn, subject, **page) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn(subject, **page)
    return len(ctx.captured_queries)


def test_a_page_costs_the_same_statements_on_every_page_and_for_any_number_of_events():
    c, (h0, h1), lots, batches = _season()
    for fn, small, large in ((trace_household, h1, h0), (trace_lot, lots[7], lots[5]), (trace_batch, batches[1], batches[2])):
        assert fn(small, limit=None).events_total < fn(large, limit=None).events_total
        first = {_statements(fn, subject, offset=offset, limit=2) for subject in (small, large) for offset in (0, 2)}
        assert len(first) == 1, (fn.__name__, first)
        # past the last page there is nothing to name: one statement fewer, never more
        assert _statements(fn, large, offset=1000, limit=2) <= first.pop()


def test_following_the_api_links_reads_the_whole_trace(client):
    c, (h0, _h1), lots, batches = _season()
    full = trace_household(h0, limit=None)
    client.force_login(c.county)
    url, events, lots_seen = f"/api/v1/trace/{h0.number}/?limit=7", [], []
    while url:
        body = client.get(url).json()
        events += body["events"]
        lots_seen += body["backward"]["lots"]
        assert body["lists_page"]["total"]["lots"] == len(full.lots)
        url = body["events_page"]["next"]
    assert events == full.events and lots_seen == full.lots
