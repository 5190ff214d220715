"""Trace: backward from a batch, forward from a lot or a household, the marketplace's extension
hook, the staff API and its permissions, the .xlsx export, and a fixed number of queries."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from core import roles
from logistics.access import trace_for_user
from logistics.selectors import trace as trace_selectors
from logistics.selectors.trace import trace_for_code
from logistics.services.batches import batch_inspect
from logistics.services.shipments import shipment_dispatch, shipment_receive
from logistics.trace_export import EVENT_COLUMNS
from tests.households.factories import UserFactory
from tests.logistics.chain_factories import chain

pytestmark = pytest.mark.django_db


def _traced():
    c = chain()
    a = c.intake(c.households[0], weight_kg="10")
    b = c.intake(c.households[1], weight_kg="10")
    shipment = shipment_dispatch(origin=c.point, lines=[(a, "10"), (b, "10")], author=c.point_staff)
    line = shipment.lines.get(lot=b)
    shipment_receive(shipment=shipment, received={line.pk: "9"}, loss_reasons={line.pk: "破袋"}, author=c.station_staff)
    batch = c.pack([(a, "10"), (b, "6")], units=6, waste_kg="1")
    batch_inspect(batch=batch, passed=True, inspector=c.county)
    out = shipment_dispatch(origin=c.station, lines=[(batch, 4)], author=c.station_staff)
    shipment_receive(shipment=out, received={}, author=c.shop_staff)
    return c, a, b, batch


def test_backward_from_a_batch_lists_lots_households_points_and_dates():
    c, a, b, batch = _traced()
    t = trace_for_code(batch.code)
    assert t.kind == "batch" and t.subject["batch_code"] == batch.code
    lots = {row["lot_code"]: row for row in t.lots}
    assert set(lots) == {a.code, b.code}
    assert lots[a.code]["household"] == c.households[0].number
    assert lots[b.code]["used_kg"] == "6.000"
    assert lots[a.code]["collection_point"]["code"] == c.point.code
    assert lots[a.code]["village"] == c.households[0].village.name and lots[a.code]["intake_at"]
    kinds = [e["event"] for e in t.events]
    for kind in ("intake", "shipping", "receiving", "transformation_input", "transformation_output", "inspection"):
        assert kind in kinds
    assert any(e["note"].startswith("损耗 1.000") for e in t.events if e["event"] == "receiving")
    assert {e["event_label"] for e in t.events} >= {"收购", "发货", "已收货"}


def test_forward_from_a_batch_lists_where_its_units_went():
    c, a, b, batch = _traced()
    t = trace_for_code(batch.code)
    assert [s["destination"]["code"] for s in t.shipments] == [c.supermarket.code]
    assert {(s["facility"]["code"], s["quantity"]) for s in t.stock} == {(c.station.code, 2), (c.supermarket.code, 4)}


def test_forward_from_a_lot_reaches_every_batch_and_names_the_household():
    c, a, b, batch = _traced()
    second = c.pack([(b, "2.5")], units=1)
    t = trace_for_code(b.code)
    assert t.kind == "lot" and t.subject["household"] == c.households[1].number
    assert {x["batch_code"] for x in t.batches} == {batch.code, second.code}


def test_forward_from_a_household_reaches_every_lot_and_batch():
    c, a, b, batch = _traced()
    t = trace_for_code(c.households[0].number)
    assert t.kind == "household"
    assert [row["lot_code"] for row in t.lots] == [a.code]
    assert [x["batch_code"] for x in t.batches] == [batch.code]


def test_the_marketplace_extends_the_forward_trace():
    c, a, b, batch = _traced()

    def order_lines(batch_ids):
        return [{"kind": "order_line", "order": "RM-1", "batch_ids": list(batch_ids)}]

    trace_selectors.register_forward_extension(order_lines)
    try:
        t = trace_for_code(a.code)
    finally:
        trace_selectors.unregister_forward_extension(order_lines)
    assert t.extra == [{"kind": "order_line", "order": "RM-1", "batch_ids": [batch.pk]}]


def test_unknown_codes_trace_to_nothing():
    assert trace_for_code("NO-SUCH-CODE") is None


def test_a_trace_runs_a_fixed_number_of_queries(django_assert_max_num_queries):
    c, a, b, batch = _traced()
    for _ in range(5):
        lot = c.intake(c.households[0], weight_kg="5")
        c.ship_to_station([(lot, "5")])
        c.pack([(lot, "5")], units=2)
    extensions = len(trace_selectors._FORWARD_EXTENSIONS)  # the marketplace's order lines: one query each
    # which kind the code is (1), the subject's row (1), the summary with the page of events (1), the page of
    # lots (a batch's inputs) or of batches, of shipment lines and of stock (3), names (1); a household: its lots too
    with django_assert_max_num_queries(7 + extensions):
        trace_for_code(batch.code)
    with django_assert_max_num_queries(7 + extensions):
        trace_for_code(a.code)
    with django_assert_max_num_queries(8 + extensions):  # and the household's lots
        trace_for_code(c.households[0].number)


def _statements(code: str, user) -> tuple[int, int]:
    """(statements, events) of ``user``'s trace of ``code``, first page and all of its events."""
    with CaptureQueriesContext(connection) as ctx:
        t = trace_for_user(user, code, limit=50)
    assert t is not None
    return len(ctx.captured_queries), t.events_total


@pytest.mark.parametrize("who", ["county", "station_staff"])
def test_the_statements_of_a_trace_do_not_grow_with_its_events(who):
    c = chain(households=2)
    user = getattr(c, who)
    few, many = c.households

    def deliver(household, n: int, per_batch: int) -> list:
        lots = [c.intake(household, weight_kg="5") for _ in range(n)]
        c.ship_to_station([(lot, "5") for lot in lots])
        batches = []
        for k in range(0, n, per_batch):  # 2 units of 2.5 kg a lot
            batches.append(c.pack([(lot, "5") for lot in lots[k:k + per_batch]], units=2 * per_batch))
            batch_inspect(batch=batches[-1], passed=True, inspector=c.county)
        shipment = shipment_dispatch(origin=c.station, lines=[(b, 1) for b in batches], author=c.station_staff)
        shipment_receive(shipment=shipment, received={}, author=c.shop_staff)
        return lots, batches

    few_lots, few_batches = deliver(few, 3, per_batch=3)
    many_lots, many_batches = deliver(many, 30, per_batch=10)
    split = c.intake(many, weight_kg="7.5")  # a lot split over three batches
    c.ship_to_station([(split, "7.5")])
    for _ in range(3):
        c.pack([(split, "2.5")], units=1)

    trace_for_user(user, few.number)  # the user's roles and facility are read once, then kept on the user
    for kind, small, large in (
        ("batch", few_batches[0].code, many_batches[0].code),
        ("lot", few_lots[0].code, split.code),
        ("household", few.number, many.number),
    ):
        (small_statements, small_events), (large_statements, large_events) = _statements(small, user), _statements(large, user)
        assert large_events > small_events, kind
        assert small_statements == large_statements, (kind, small_statements, large_statements)
    assert _statements(many.number, user)[1] > 100  # more events than a page: the rest are a link away, not a statement each


@pytest.mark.parametrize("who", ["station_staff", "shop_staff", "county"])
def test_staff_whose_scope_holds_the_batch_read_its_trace(client, who):
    c, a, b, batch = _traced()
    client.force_login(getattr(c, who))
    r = client.get(f"/api/v1/trace/{batch.code}/")
    assert r.status_code == 200
    assert {row["household"] for row in r.json()["backward"]["lots"]} == {c.households[0].number, c.households[1].number}


@pytest.mark.parametrize("who", ["point_staff", "station_staff", "county"])
def test_staff_whose_scope_holds_the_lot_trace_it_forward(client, who):
    c, a, b, batch = _traced()
    client.force_login(getattr(c, who))
    r = client.get(f"/api/v1/trace/{a.code}/")
    assert r.status_code == 200
    assert r.json()["subject"]["household"] == c.households[0].number


def test_employees_and_anonymous_users_may_not_read_the_trace_api(client):
    c, a, b, batch = _traced()
    assert client.get(f"/api/v1/trace/{batch.code}/").status_code in (401, 403)
    client.force_login(UserFactory(role=roles.EMPLOYEE))
    assert client.get(f"/api/v1/trace/{batch.code}/").status_code == 403
    assert client.get(f"/api/v1/trace/{batch.code}/export.xlsx").status_code == 403


def test_the_api_answers_404_for_an_unknown_code(client):
    client.force_login(UserFactory(role=roles.COUNTY_OFFICE))
    r = client.get("/api/v1/trace/NOPE/")
    assert r.status_code == 404 and "NOPE" in r.json()["detail"]


def test_the_xlsx_export_carries_fsma_204_key_data_elements_per_event(client):
    c, a, b, batch = _traced()
    client.force_login(c.station_staff)
    r = client.get(f"/api/v1/trace/{batch.code}/export.xlsx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb["追溯事件（FSMA-204）"]
    header = [cell.value for cell in ws[1]]
    assert header == [str(label) for _key, label in EVENT_COLUMNS]
    for kde in ("事件", "追溯批次码", "产品", "数量", "计量单位", "地点", "日期", "单据类型", "单据号"):
        assert any(h.startswith(kde) for h in header), kde
    assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:")
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    events = {row[0] for row in rows}
    assert {"收购", "发货", "已收货", "包装投入", "包装产出"} <= events
    packed = next(row for row in rows if row[0] == "包装产出")
    assert packed[1] == batch.code and packed[3] == 6 and packed[4] == "件"
    lots = wb["批次"]
    assert {row[0] for row in lots.iter_rows(min_row=2, values_only=True)} == {a.code, b.code}


def test_the_openapi_schema_documents_the_trace_endpoints(client):
    r = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert r.status_code == 200
    body = r.content.decode()
    assert "/api/v1/trace/{code}/" in body and "/api/v1/trace/{code}/export.xlsx" in body


def test_a_trace_sums_each_stage_and_counts_what_it_reached():
    c, a, b, batch = _traced()
    t = trace_for_code(batch.code)
    s = t.summary
    assert (s["lots"], s["households"], s["batches"], s["events"]) == (2, 2, 1, len(t.events))
    assert s["stages"]["intake"] == {"label": "收购", "events": 2, "kg": "20.000", "units": 0}
    assert s["stages"]["transformation_input"]["kg"] == "16.000"
    assert s["stages"]["transformation_output"]["units"] == 6
    assert s["loss"] == {"kg": "1.000", "units": 0}


def test_events_come_a_page_at_a_time_in_date_order():
    c, a, b, batch = _traced()
    everything = trace_for_code(batch.code, limit=None)
    first = trace_for_code(batch.code, limit=3)
    assert first.events == everything.events[:3] and first.events_total == len(everything.events)
    assert first.next_offset == 3
    rest = trace_for_code(batch.code, offset=3, limit=100)
    assert first.events + rest.events == everything.events and rest.next_offset is None
    dates = [e["date"] for e in everything.events]
    assert dates == sorted(dates)


def test_the_api_answers_the_first_page_with_a_link_to_the_next(client):
    c, a, b, batch = _traced()
    client.force_login(c.county)
    r = client.get(f"/api/v1/trace/{batch.code}/?limit=4")
    body = r.json()
    assert r.status_code == 200 and len(body["events"]) == 4 and body["summary"]["lots"] == 2
    page = body["events_page"]
    assert page["total"] > 4 and page["next"].endswith(f"/api/v1/trace/{batch.code}/?offset=4&limit=4")
    following = client.get(page["next"]).json()
    assert following["events"][0] != body["events"][0]


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=x", "offset=-1", "offset=１"])
def test_a_page_that_cannot_be_read_is_400_with_the_parameter(client, query):
    c, a, b, batch = _traced()
    client.force_login(c.county)
    r = client.get(f"/api/v1/trace/{batch.code}/?{query}")
    assert r.status_code == 400 and query.split("=")[0] in r.json()


def test_the_staff_trace_page_shows_the_summary_and_links_the_next_events(client):
    c, a, b, batch = _traced()
    for _ in range(12):
        lot = c.intake(c.households[0], weight_kg="5")
        c.ship_to_station([(lot, "5")])
        c.pack([(lot, "5")], units=2)
    client.force_login(c.county)
    r = client.get("/station/trace/", {"code": c.households[0].number})
    html = r.content.decode()
    assert r.status_code == 200 and "13 " in html and "offset=50" in html
    r = client.get("/station/trace/", {"code": c.households[0].number, "offset": 50})
    assert r.status_code == 200 and "offset=100" not in r.content.decode()


def test_units_shipped_and_received_read_as_whole_numbers_never_in_exponent_form():
    # Decimal("10.000").normalize() is Decimal("1E+1"): a batch's shipping and receiving events printed "1E+1" units
    c = chain()
    lot = c.intake(c.households[0], weight_kg="250")
    c.ship_to_station([(lot, "250")])
    batch = c.pack([(lot, "250")], units=100)  # 2.5 kg a unit
    out = shipment_dispatch(origin=c.station, lines=[(batch, 100)], author=c.station_staff)
    line = out.lines.get()
    shipment_receive(shipment=out, received={line.pk: 10}, loss_reasons={line.pk: "压坏"}, author=c.shop_staff)
    for limit in (None, 50):  # the full trace (the .xlsx export) and a page (the API)
        for subject in (batch.code, lot.code, c.households[0].number):
            t = trace_for_code(subject, limit=limit)
            moved = {e["event"]: e["quantity"] for e in t.events if e["unit"] == "units" and e["event"] in ("shipping", "receiving")}
            assert moved == {"shipping": "100", "receiving": "10"}, (subject, limit)
            # the loss on the short receipt counts units too: "损耗 90", not "损耗 90.000"
            notes = [e["note"] for e in t.events if e["unit"] == "units" and e["event"] == "receiving"]
            assert notes == ["损耗 90：压坏"], (subject, limit, notes)
