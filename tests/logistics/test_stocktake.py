"""Stock-takes (盘点): a sheet of every batch on hand, counts entered while sales go on, the county
office's approval posting ``counted − book when counted`` as ``stocktake`` movements, and the
books reconciling afterwards."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import translation

from core.errors import DomainError, NotAllowed
from logistics.models import BatchMovement, BatchStock, MovementKind, StockTake
from logistics.selectors.stock import county_today
from logistics.services.batches import batch_inspect
from logistics.services.shipments import shipment_dispatch, shipment_receive
from logistics.services.stock import batch_stock_lock, batch_stock_release, batch_stock_reserve, batch_stock_sell
from logistics.services.stocktake import (
    stocktake_approve,
    stocktake_cancel,
    stocktake_count,
    stocktake_open,
    stocktake_send_back,
    stocktake_submit,
)
from tests.logistics.chain_factories import chain

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def zh():
    with translation.override("zh-hans"):
        yield


def _at_supermarket(c, units=4):
    lots = c.lots_at_station(1, weight_kg="10")
    batch = c.pack([(lots[0], "10")], units=units, best_before=county_today() + datetime.timedelta(days=90))
    batch_inspect(batch=batch, passed=True, inspector=c.county)
    out = shipment_dispatch(origin=c.station, lines=[(batch, batch.units)], author=c.station_staff)
    shipment_receive(shipment=out, received={}, loss_reasons={}, author=c.shop_staff)
    return batch


def _reconciles(skip=()) -> None:
    from core.reconcile import registered_checks, run_checks

    problems = {k: v for k, v in run_checks([n for n in registered_checks() if n not in skip]).items() if v}
    assert not problems


def _sell(c, batch, units):
    [row] = [s for s in batch_stock_lock(facility_id=c.supermarket.pk, sku_ids=[c.sku.pk]) if s.batch_id == batch.pk]
    batch_stock_reserve(stock=row, units=units, reference_type="order", reference_code="T-1")
    batch_stock_sell(stock=row, units=units, reference_type="order", reference_code="T-1")


def _quantity(c, batch) -> int:
    return BatchStock.objects.get(batch=batch, facility=c.supermarket).quantity


def test_a_stocktakes_differences_are_posted_on_approval_and_the_books_reconcile():
    c = chain()
    a, b = _at_supermarket(c), _at_supermarket(c)
    st = stocktake_open(facility=c.supermarket, author=c.shop_staff)
    lines = {ln.batch_id: ln for ln in st.lines.all()}
    assert {(bid, ln.book_at_open) for bid, ln in lines.items()} == {(a.pk, 4), (b.pk, 4)}

    stocktake_count(stocktake=st, counts={lines[a.pk].pk: "3", lines[b.pk].pk: "5"}, author=c.shop_staff)
    stocktake_submit(stocktake=st, author=c.shop_staff)
    assert not BatchMovement.objects.filter(kind=MovementKind.STOCKTAKE).exists()  # nothing before approval
    stocktake_approve(stocktake=st, author=c.county)

    assert (_quantity(c, a), _quantity(c, b)) == (3, 5)
    moves = sorted(BatchMovement.objects.filter(kind=MovementKind.STOCKTAKE, reference_code=st.code).values_list("batch_id", "quantity_delta"))
    assert moves == sorted([(a.pk, -1), (b.pk, 1)])
    st.refresh_from_db()
    assert st.status == StockTake.Status.POSTED
    _reconciles()


def test_sales_after_the_count_are_kept_and_only_the_counted_difference_is_posted():
    c = chain()
    a = _at_supermarket(c, units=4)
    st = stocktake_open(facility=c.supermarket, author=c.shop_staff)
    [line] = st.lines.all()
    stocktake_count(stocktake=st, counts={line.pk: "3"}, author=c.shop_staff)  # one unit missing from 4
    _sell(c, a, 2)  # the shop stays open: two sold after the count
    stocktake_submit(stocktake=st, author=c.shop_staff)
    stocktake_approve(stocktake=st, author=c.county)
    assert _quantity(c, a) == 1  # 3 on the shelf at the count, 2 sold since
    _reconciles()


def test_a_count_cannot_take_units_orders_hold():
    c = chain()
    a = _at_supermarket(c, units=4)
    st = stocktake_open(facility=c.supermarket, author=c.shop_staff)
    [line] = st.lines.all()
    stocktake_count(stocktake=st, counts={line.pk: "0"}, author=c.shop_staff)
    [row] = batch_stock_lock(facility_id=c.supermarket.pk, sku_ids=[c.sku.pk])
    batch_stock_reserve(stock=row, units=2, reference_type="order", reference_code="T-2")
    stocktake_submit(stocktake=st, author=c.shop_staff)
    with pytest.raises(DomainError) as refused:
        stocktake_approve(stocktake=st, author=c.county)
    assert a.code in " ".join(refused.value.problems)
    assert _quantity(c, a) == 4 and not BatchMovement.objects.filter(kind=MovementKind.STOCKTAKE).exists()
    stocktake_send_back(stocktake=st, author=c.county)
    stocktake_count(stocktake=st, counts={line.pk: "4"}, author=c.shop_staff)
    stocktake_submit(stocktake=st, author=c.shop_staff)
    stocktake_approve(stocktake=st, author=c.county)
    batch_stock_release(stock=row, units=2, reference_type="order", reference_code="T-2")  # no real order behind it
    _reconciles()


def test_only_the_county_office_approves_and_only_the_facilitys_staff_count():
    c = chain()
    _at_supermarket(c)
    st = stocktake_open(facility=c.supermarket, author=c.shop_staff)
    [line] = st.lines.all()
    with pytest.raises(DomainError):
        stocktake_count(stocktake=st, counts={line.pk: "1"}, author=c.station_staff)
    with pytest.raises(DomainError):
        stocktake_submit(stocktake=st, author=c.shop_staff)  # not counted yet
    stocktake_count(stocktake=st, counts={line.pk: "4"}, author=c.shop_staff)
    stocktake_submit(stocktake=st, author=c.shop_staff)
    with pytest.raises(NotAllowed):
        stocktake_approve(stocktake=st, author=c.shop_staff)
    with pytest.raises(DomainError):
        stocktake_open(facility=c.supermarket, author=c.shop_staff)  # one open sheet per facility
    stocktake_cancel(stocktake=st, author=c.shop_staff)
    assert stocktake_open(facility=c.supermarket, author=c.shop_staff).status == StockTake.Status.COUNTING


def test_bad_counts_are_refused_together_and_nothing_is_written():
    c = chain()
    _at_supermarket(c)
    _at_supermarket(c)
    st = stocktake_open(facility=c.supermarket, author=c.shop_staff)
    first, second = st.lines.all()
    with pytest.raises(DomainError) as refused:
        stocktake_count(stocktake=st, counts={first.pk: "-1", second.pk: "③"}, author=c.shop_staff)
    assert len(refused.value.problems) == 2
    assert not st.lines.filter(counted__isnull=False).exists()


def test_the_sheet_page_counts_submits_and_the_county_office_approves():
    c = chain()
    a = _at_supermarket(c)
    shop, county, other = Client(), Client(), Client()
    shop.force_login(c.shop_staff)
    county.force_login(c.county)
    other.force_login(c.station_staff)

    assert shop.post("/station/stocktakes/").status_code == 302
    st = StockTake.objects.get()
    [line] = st.lines.all()
    page = shop.get(f"/station/stocktakes/{st.code}/")
    assert page.status_code == 200 and a.code in page.content.decode()
    bad = shop.post(f"/station/stocktakes/{st.code}/", {"action": "count", f"count-{line.pk}": "abc"})
    assert bad.status_code == 400 and 'value="abc"' in bad.content.decode()
    assert shop.post(f"/station/stocktakes/{st.code}/", {"action": "submit", f"count-{line.pk}": "2"}).status_code == 302
    assert other.get(f"/station/stocktakes/{st.code}/").status_code == 404  # another facility's stock-take
    assert other.get(f"/station/stocktakes/{st.code}/sheet.pdf").status_code == 404
    refused = shop.post(f"/station/stocktakes/{st.code}/", {"action": "approve"})
    assert refused.status_code == 400 and _quantity(c, a) == 4
    pdf = shop.get(f"/station/stocktakes/{st.code}/sheet.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert county.post(f"/station/stocktakes/{st.code}/", {"action": "approve"}).status_code == 302
    assert _quantity(c, a) == 2
    _reconciles()
