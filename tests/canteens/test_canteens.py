"""Canteens buying their reserved share: orders, FEFO deliveries (in parts), each delivery a
completed canteen-channel sale that settlement attributes to households to the fen, invoices and
transfers, progress = paid + unpaid deliveries, and each buyer seeing only its own canteen."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import translation

from core.errors import DomainError, NotAllowed
from households.models import IncomeEntry
from logistics.models import BatchStock
from logistics.selectors.stock import county_today
from marketplace.canteens.models import CanteenInvoice, CanteenOrder
from marketplace.canteens.reconcile import check_canteen_deliveries
from marketplace.canteens.selectors import canteen_progress
from marketplace.canteens.services import (
    canteen_delivery_record,
    canteen_invoice_fapiao,
    canteen_invoice_paid,
    canteen_order_place,
)
from marketplace.models import Order, OrderLineBatch
from marketplace.settlement.services import settled_days_mismatches, settlement_run
from tests.canteens.factories import at_supermarket, buyer, canteen, product_of
from tests.logistics.chain_factories import chain
from tests.marketplace.factories import allocation_year

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def zh():
    with translation.override("zh-hans"):
        yield


def _tomorrow() -> str:
    return (county_today() + datetime.timedelta(days=1)).isoformat()


def _order(c, canteen_, who, product, quantity, unit="units"):
    return canteen_order_place(canteen=canteen_, author=who, supplier=c.supermarket, delivery_date=_tomorrow(),
                               lines=[{"product": product.pk, "unit": unit, "quantity": quantity}])


def test_a_delivery_takes_units_fefo_in_parts_and_is_a_completed_canteen_sale():
    c = chain()
    late = at_supermarket(c, units=4, days=200)
    early = at_supermarket(c, units=4, days=30)
    product = product_of(c, "33.33")
    ct = canteen()
    order = _order(c, ct, buyer(ct), product, "6")
    [line] = order.lines.all()

    first = canteen_delivery_record(order=order, author=c.shop_staff, units={line.pk: "5"})
    order.refresh_from_db()
    assert order.status == CanteenOrder.Status.PARTLY
    sale = first.sale
    assert (sale.channel, sale.status, sale.employee, sale.total, sale.offline_amount) == (
        Order.Channel.CANTEEN, Order.Status.COMPLETED, None, Decimal("166.65"), Decimal("166.65"))
    taken = dict(OrderLineBatch.objects.filter(line__order=sale).values_list("batch_id", "units"))
    assert taken == {early.pk: 4, late.pk: 1}  # earliest best-before first
    with pytest.raises(DomainError):
        canteen_delivery_record(order=order, author=c.shop_staff, units={line.pk: "2"})  # only 1 to go
    canteen_delivery_record(order=order, author=c.shop_staff, units={line.pk: "1"})
    order.refresh_from_db()
    assert order.status == CanteenOrder.Status.DELIVERED
    assert BatchStock.objects.get(batch=late, facility=c.supermarket).quantity == 2
    assert CanteenInvoice.objects.filter(delivery__order=order).count() == 2
    assert check_canteen_deliveries() == []


def test_a_kg_order_is_delivered_in_whole_units_that_cover_it():
    c = chain()
    at_supermarket(c, units=4)
    product = product_of(c)  # 2.5 kg a unit
    ct = canteen()
    order = _order(c, ct, buyer(ct), product, "6", unit="kg")
    [line] = order.lines.all()
    with pytest.raises(DomainError):
        canteen_delivery_record(order=order, author=c.shop_staff, units={line.pk: "4"})  # 3 units cover 6 kg
    canteen_delivery_record(order=order, author=c.shop_staff, units={line.pk: "3"})
    order.refresh_from_db()
    assert order.status == CanteenOrder.Status.DELIVERED


def test_short_stock_refuses_the_whole_delivery_naming_the_line():
    c = chain()
    at_supermarket(c, units=4)
    product = product_of(c)
    ct = canteen()
    order = _order(c, ct, buyer(ct), product, "10")
    [line] = order.lines.all()
    with pytest.raises(DomainError) as refused:
        canteen_delivery_record(order=order, author=c.shop_staff, units={line.pk: "5"})
    assert product.name in " ".join(refused.value.problems)
    assert not Order.objects.filter(channel=Order.Channel.CANTEEN).exists()


def test_only_the_supplier_delivers_and_only_the_buyer_orders_for_its_canteen():
    c = chain()
    at_supermarket(c)
    product = product_of(c)
    ct, other = canteen("CT-1"), canteen("CT-2")
    with pytest.raises(NotAllowed):
        _order(c, other, buyer(ct), product, "1")
    order = _order(c, ct, buyer(ct), product, "1")
    [line] = order.lines.all()
    with pytest.raises(DomainError):
        canteen_delivery_record(order=order, author=c.station_staff, units={line.pk: "1"})


def test_a_canteen_delivery_is_settled_to_households_to_the_fen():
    allocation_year()
    c = chain(households=3)
    lots = [c.intake(h, weight_kg=w) for h, w in zip(c.households, ("3.1", "4.3", "2.6"), strict=True)]
    c.ship_to_station([(lot, lot.weight_kg) for lot in lots])
    batch = c.pack([(lot, lot.weight_kg) for lot in lots], units=3, waste_kg="2.5",
                   best_before=county_today() + datetime.timedelta(days=60))
    from logistics.services.batches import batch_inspect
    from logistics.services.shipments import shipment_dispatch, shipment_receive

    batch_inspect(batch=batch, passed=True, inspector=c.county)
    shipment_receive(shipment=shipment_dispatch(origin=c.station, lines=[(batch, 3)], author=c.station_staff), received={},
                     loss_reasons={}, author=c.shop_staff)
    product = product_of(c, "33.33")
    ct = canteen()
    order = _order(c, ct, buyer(ct), product, "3")
    [line] = order.lines.all()
    delivery = canteen_delivery_record(order=order, author=c.shop_staff, units={line.pk: "3"},
                                       at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=2))
    settlement_run()
    entries = IncomeEntry.objects.filter(kind="sales", channel="canteen")
    assert sum(e.amount for e in entries) == delivery.sale.total == Decimal("99.99")
    assert {e.household_id for e in entries} == {h.pk for h in c.households}
    assert settled_days_mismatches() == []


def test_progress_equals_the_sum_of_paid_and_unpaid_deliveries():
    c = chain()
    at_supermarket(c, units=4)
    product = product_of(c, "50.00")
    ct = canteen(budget="1000.00", share="30.00")
    order = _order(c, ct, buyer(ct), product, "4")
    [line] = order.lines.all()
    d1 = canteen_delivery_record(order=order, author=c.shop_staff, units={line.pk: "1"})
    d2 = canteen_delivery_record(order=order, author=c.shop_staff, units={line.pk: "3"})
    canteen_invoice_fapiao(invoice=d1.invoice, fapiao_number="FP-0001", author=c.shop_staff)
    with pytest.raises(DomainError):
        canteen_invoice_paid(invoice=d1.invoice, amount="49.99", bank_reference="B1", author=c.shop_staff)
    canteen_invoice_paid(invoice=d1.invoice, amount="50.00", bank_reference="B1", author=c.shop_staff)
    with pytest.raises(NotAllowed):
        canteen_invoice_paid(invoice=d2.invoice, amount="150.00", bank_reference="B2", author=c.station_staff)
    [row] = canteen_progress(canteens=type(ct).objects.filter(pk=ct.pk), year=county_today().year)
    assert row["purchased"] == d1.sale.total + d2.sale.total == Decimal("200.00")
    assert (row["paid"], row["unpaid"]) == (Decimal("50.00"), Decimal("150.00"))
    assert (row["required"], row["share_of_budget"]) == (Decimal("300.00"), Decimal("20.00"))


def test_the_progress_api_shows_a_buyer_only_its_own_canteen_and_the_county_all():
    c = chain()
    ct, _other = canteen("CT-1"), canteen("CT-2")
    me = Client()
    me.force_login(buyer(ct))
    rows = me.get("/api/v1/canteens/progress/").json()
    assert [r["canteen_code"] for r in rows] == ["CT-1"]
    assert rows[0]["budget"] == "100000.00" and rows[0]["required"] == "30000.00" and rows[0]["purchased"] == "0.00"
    county = Client()
    county.force_login(c.county)
    assert {r["canteen_code"] for r in county.get("/api/v1/canteens/progress/").json()} == {"CT-1", "CT-2"}
    shop = Client()
    shop.force_login(c.shop_staff)
    assert shop.get("/api/v1/canteens/progress/").status_code == 403
    assert me.get("/api/v1/canteens/progress/?year=③").status_code == 400


def test_pages_scope_a_buyer_to_its_canteen_and_the_supplier_delivers_with_a_note():
    c = chain()
    at_supermarket(c, units=4)
    product = product_of(c)
    ct, other = canteen("CT-1"), canteen("CT-2")
    mine, theirs = Client(), Client()
    mine.force_login(buyer(ct))
    theirs.force_login(buyer(other))
    page = mine.post("/canteen/", {"supplier": c.supermarket.code, "delivery_date": _tomorrow(), "product-0": str(product.pk),
                                   "unit-0": "units", "quantity-0": "2"})
    assert page.status_code == 302
    order = CanteenOrder.objects.get(canteen=ct)
    bad = mine.post("/canteen/", {"supplier": c.supermarket.code, "delivery_date": _tomorrow(), "product-0": str(product.pk),
                                  "unit-0": "units", "quantity-0": "-3"})
    assert bad.status_code == 400 and CanteenOrder.objects.count() == 1
    assert theirs.get(f"/canteen/orders/{order.number}/").status_code == 404
    shop = Client()
    shop.force_login(c.shop_staff)
    [line] = order.lines.all()
    assert shop.post(f"/canteen/orders/{order.number}/", {f"quantity-{line.pk}": "2"}).status_code == 302
    delivery = order.deliveries.get()
    pdf = mine.get(f"/canteen/deliveries/{delivery.number}/note.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert theirs.get(f"/canteen/deliveries/{delivery.number}/note.pdf").status_code == 404
    assert delivery.invoice.number in mine.get("/canteen/").content.decode()
    assert delivery.invoice.number not in theirs.get("/canteen/").content.decode()
    assert shop.post(f"/canteen/invoices/{delivery.invoice.number}/", {"action": "fapiao", "fapiao_number": "FP-9"}).status_code == 302
    assert CanteenInvoice.objects.get().fapiao_number == "FP-9"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_deliveries_for_the_last_units_at_once_sell_each_unit_once(on_postgres):
    from logistics.services.stocktake import stocktake_approve, stocktake_count, stocktake_open, stocktake_submit
    from tests.marketplace.test_concurrency import run_together

    c = chain()
    batch = at_supermarket(c, units=4)
    product = product_of(c)
    ct = canteen()
    who = buyer(ct)
    first, second = _order(c, ct, who, product, "3"), _order(c, ct, who, product, "3")
    # a stock-take counted before the race (one unit missing) and approved while the deliveries run
    st = stocktake_open(facility=c.supermarket, author=c.shop_staff)
    stocktake_count(stocktake=st, counts={st.lines.get().pk: "3"}, author=c.shop_staff)
    stocktake_submit(stocktake=st, author=c.shop_staff)

    results = run_together([
        lambda: canteen_delivery_record(order=first, author=c.shop_staff, units={first.lines.get().pk: "3"}),
        lambda: canteen_delivery_record(order=second, author=c.shop_staff, units={second.lines.get().pk: "3"}),
        lambda: stocktake_approve(stocktake=st, author=c.county),
    ])

    delivered = [r for r in results[:2] if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(r, DomainError) for r in refused), refused
    sold = sum(OrderLineBatch.objects.filter(line__order__channel=Order.Channel.CANTEEN).values_list("units", flat=True))
    assert sold == 3 * len(delivered) and len(delivered) == 1
    quantity = BatchStock.objects.get(batch=batch, facility=c.supermarket).quantity
    posted = not isinstance(results[2], BaseException)
    assert quantity == 4 - sold - (1 if posted else 0)
    from core.reconcile import run_checks

    assert not {k: v for k, v in run_checks().items() if v}
