"""Counter sales (门店收银): the API's answers, the allocation passes, stock, returns and the day's
report with its cash-up."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from rest_framework.test import APIClient

from core import roles
from core.models import SmsMessage
from logistics.models import BatchStock
from marketplace.counter_report import counter_day_report, counter_day_xlsx
from marketplace.models import AllocationEntry, AllocationPass, CounterSale, Order, OrderLineBatch, TillCount
from marketplace.services.allocation import allocation_balance, allocation_grant
from marketplace.services.counter import allocation_pass_issue, till_count_record
from marketplace.services.orders import order_refund
from tests.logistics.factories import SupermarketFactory, staff_at
from tests.marketplace.factories import EmployeeFactory, ProductFactory, allocation_year, stock_batch

pytestmark = pytest.mark.django_db
URL = "/api/v1/counter/sales/"


@pytest.fixture(autouse=True)
def zh():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def shop():
    return SupermarketFactory()


@pytest.fixture
def cashier(shop):
    return staff_at(shop, roles.SUPERMARKET_STAFF)


@pytest.fixture
def api(cashier):
    client = APIClient()
    client.force_authenticate(cashier)
    return client


@pytest.fixture
def goods(shop):
    chestnut = ProductFactory(name="镇安板栗", price=Decimal("25.50"))
    tea = ProductFactory(name="特级绿茶", price=Decimal("88.00"))
    old = stock_batch(chestnut, 3, days_ago=40, facility=shop)
    new = stock_batch(chestnut, 10, days_ago=2, facility=shop)
    tea_batch = stock_batch(tea, 5, facility=shop)
    return chestnut, tea, old, new, tea_batch


@pytest.fixture
def employee():
    setting = allocation_year()
    e = EmployeeFactory(phone="13800000001")
    allocation_grant(employee=e, year=setting.year)
    return e


def _units(batch) -> int:
    return BatchStock.objects.get(batch=batch).quantity


def test_a_cash_sale_takes_the_earliest_best_before_first_and_is_a_completed_counter_order(api, goods):
    chestnut, tea, old, new, _tb = goods
    r = api.post(URL, {"client_id": "c-1", "lines": [{"product": chestnut.pk, "quantity": 4}], "cash": "110.00"}, format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert (body["total"], body["allocation_amount"], body["cash_amount"], body["change"]) == ("102.00", "0.00", "102.00", "8.00")
    order = Order.objects.get(number=body["number"])
    assert (order.channel, order.status, order.employee, order.offline_amount) == ("counter", "completed", None, Decimal("102.00"))
    assert order.paid_at is not None
    assert {(lb.batch_id, lb.units) for lb in OrderLineBatch.objects.filter(line__order=order)} == {(old.pk, 3), (new.pk, 1)}
    assert (_units(old), _units(new)) == (0, 9)


def test_a_line_by_batch_code_takes_that_batch_even_when_an_older_one_is_on_the_shelf(api, goods):
    chestnut, tea, old, new, tea_batch = goods
    r = api.post(URL, {"client_id": "c-2", "lines": [
        {"batch": new.code.lower(), "quantity": 2}, {"product": tea.pk, "quantity": 1},
    ]}, format="json")
    assert r.status_code == 409 and "现金" in r.json()["detail"]  # 139 yuan due, none handed over
    r = api.post(URL, {"client_id": "c-2b", "lines": [
        {"batch": new.code.lower(), "quantity": 2}, {"product": tea.pk, "quantity": 1},
    ], "cash": "139.00"}, format="json")
    assert r.status_code == 201, r.json()
    assert [ln["batches"] for ln in r.json()["lines"]] == [[{"batch": new.code, "units": 2}], [{"batch": tea_batch.code, "units": 1}]]
    assert (_units(old), _units(new)) == (3, 8)


def test_the_same_client_id_gives_the_same_sale_and_other_content_is_refused(api, goods):
    chestnut = goods[0]
    payload = {"client_id": "same", "lines": [{"product": chestnut.pk, "quantity": 1}], "cash": "30"}
    first = api.post(URL, payload, format="json")
    again = api.post(URL, payload, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["number"] == again.json()["number"]
    other = api.post(URL, {**payload, "lines": [{"product": chestnut.pk, "quantity": 2}]}, format="json")
    assert other.status_code == 409 and first.json()["number"] in other.json()["detail"]
    assert Order.objects.filter(channel="counter").count() == 1
    assert sum(BatchStock.objects.filter(batch__sku=chestnut.sku).values_list("quantity", flat=True)) == 12


def test_short_stock_names_every_short_line_and_sells_nothing(api, goods):
    chestnut, tea, old, new, _tb = goods
    r = api.post(URL, {"client_id": "short", "lines": [
        {"product": chestnut.pk, "quantity": 20}, {"product": tea.pk, "quantity": 1}, {"batch": old.code, "quantity": 4},
    ], "cash": "9999"}, format="json")
    assert r.status_code == 409
    problems = r.json()["problems"]
    assert len(problems) == 2
    assert "第1行" in problems[1] and "镇安板栗" in problems[1] and "10" in problems[1]
    assert "第3行" in problems[0] and old.code in problems[0] and "3" in problems[0]
    assert not Order.objects.exists() and not CounterSale.objects.exists()
    assert (_units(old), _units(new)) == (3, 10)


def test_unreadable_lines_and_unknown_codes_are_a_clear_400(api, goods):
    for payload in (
        {"client_id": "x", "lines": []},
        {"client_id": "x", "lines": [{"product": goods[0].pk, "batch": goods[2].code, "quantity": 1}]},
        {"client_id": "x", "lines": [{"product": goods[0].pk, "quantity": 0}]},
        {"client_id": "x", "lines": [{"batch": "NO-SUCH", "quantity": 1}]},
        {"client_id": "", "lines": [{"product": goods[0].pk, "quantity": 1}]},
        {"client_id": "x", "lines": [{"product": goods[0].pk, "quantity": 1}], "cash": "-1"},
        {"client_id": "x", "lines": "product=1"},
    ):
        r = api.post(URL, payload, format="json")
        assert r.status_code == 400, (payload, r.json())
        assert re.search(r"[\u4e00-\u9fff]", r.json()["detail"]), r.json()
    assert not Order.objects.exists()


def test_only_supermarket_staff_may_sell(goods, employee):
    client = APIClient()
    client.force_authenticate(employee.user)
    r = client.post(URL, {"client_id": "e", "lines": [{"product": goods[0].pk, "quantity": 1}], "cash": "30"}, format="json")
    assert r.status_code == 403
    assert APIClient().post(URL, {}, format="json").status_code in (401, 403)
    assert not Order.objects.exists()


def test_a_qr_pass_pays_from_the_allocation_once(api, goods, employee):
    chestnut = goods[0]
    issued = allocation_pass_issue(employee=employee)
    assert issued.expires_at - timezone.now() <= datetime.timedelta(minutes=2)
    r = api.post(URL, {"client_id": "qr-1", "lines": [{"product": chestnut.pk, "quantity": 2}],
                       "allocation_token": issued.token}, format="json")
    assert r.status_code == 201, r.json()
    assert (r.json()["allocation_amount"], r.json()["cash_amount"]) == ("51.00", "0.00")
    assert allocation_balance(employee=employee, year=allocation_year().year) == Decimal("649.00")
    order = Order.objects.get(number=r.json()["number"])
    assert order.employee == employee
    again = api.post(URL, {"client_id": "qr-2", "lines": [{"product": chestnut.pk, "quantity": 1}],
                           "allocation_token": issued.token}, format="json")
    assert again.status_code == 409 and order.number in again.json()["detail"]
    assert AllocationEntry.objects.filter(kind="spend").count() == 1


def test_an_expired_or_unknown_pass_is_refused_and_a_refused_sale_leaves_the_pass_unused(api, goods, employee):
    chestnut = goods[0]
    issued = allocation_pass_issue(employee=employee)
    short = api.post(URL, {"client_id": "p-1", "lines": [{"product": chestnut.pk, "quantity": 99}],
                           "allocation_token": issued.token}, format="json")
    assert short.status_code == 409
    assert AllocationPass.objects.get(pk=issued.pk).used_at is None
    AllocationPass.objects.filter(pk=issued.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    expired = api.post(URL, {"client_id": "p-2", "lines": [{"product": chestnut.pk, "quantity": 1}],
                             "allocation_token": issued.token}, format="json")
    assert expired.status_code == 409 and "过期" in expired.json()["detail"]
    unknown = api.post(URL, {"client_id": "p-3", "lines": [{"product": chestnut.pk, "quantity": 1}],
                             "allocation_token": "AP-forged"}, format="json")
    assert unknown.status_code == 409
    assert not Order.objects.exists()


def test_allocation_first_then_cash_when_the_balance_is_short(api, goods):
    setting = allocation_year(amount=Decimal("50.00"))
    e = EmployeeFactory()
    allocation_grant(employee=e, year=setting.year)
    issued = allocation_pass_issue(employee=e)
    r = api.post(URL, {"client_id": "both", "lines": [{"product": goods[1].pk, "quantity": 1}],
                       "allocation_token": issued.token, "cash": "40"}, format="json")
    assert r.status_code == 201, r.json()
    assert (r.json()["allocation_amount"], r.json()["cash_amount"], r.json()["change"]) == ("50.00", "38.00", "2.00")
    assert allocation_balance(employee=e, year=setting.year) == Decimal("0.00")


def test_a_texted_code_pays_from_the_allocation_and_a_wrong_code_does_not(api, goods, employee, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sent = api.post("/api/v1/counter/allocation-codes/", {"phone": "138 0000 0001"}, format="json")
    assert sent.status_code == 202, sent.json()
    text = SmsMessage.objects.filter(phone="13800000001").latest("id").text
    code = re.search(r"\d{6}", text).group(0)
    wrong = "000000" if code != "000000" else "111111"
    line = [{"product": goods[0].pk, "quantity": 1}]
    bad = api.post(URL, {"client_id": "sms-0", "lines": line, "phone": "13800000001", "sms_code": wrong}, format="json")
    assert bad.status_code == 409
    assert AllocationPass.objects.get().attempts == 1
    ok = api.post(URL, {"client_id": "sms-1", "lines": line, "phone": "13800000001", "sms_code": code}, format="json")
    assert ok.status_code == 201, ok.json()
    assert ok.json()["allocation_amount"] == "25.50"
    reuse = api.post(URL, {"client_id": "sms-2", "lines": line, "phone": "13800000001", "sms_code": code}, format="json")
    assert reuse.status_code == 409


def test_a_code_for_an_unknown_phone_says_so(api):
    r = api.post("/api/v1/counter/allocation-codes/", {"phone": "13900000000"}, format="json")
    assert r.status_code == 409 and "13900000000" in r.json()["detail"]


def test_the_employee_gets_a_pass_from_the_api(employee):
    client = APIClient()
    client.force_authenticate(employee.user)
    r = client.post("/api/v1/me/allocation/pass/", {}, format="json")
    assert r.status_code == 201 and r.json()["token"].startswith("AP")


def test_a_counter_return_gives_cash_back_first_then_the_allocation(api, goods, cashier):
    setting = allocation_year(amount=Decimal("50.00"))
    e = EmployeeFactory()
    allocation_grant(employee=e, year=setting.year)
    issued = allocation_pass_issue(employee=e)
    chestnut = goods[0]
    r = api.post(URL, {"client_id": "ret", "lines": [{"product": chestnut.pk, "quantity": 4}],
                       "allocation_token": issued.token, "cash": "52"}, format="json")
    order = Order.objects.get(number=r.json()["number"])  # 102.00 = 50 allocation + 52 cash
    line = order.lines.get()
    first = order_refund(order=order, lines={line.pk: 3}, reason="顾客退货", actor=cashier, restock=True)
    assert (first.offline_amount, first.allocation_amount) == (Decimal("52.00"), Decimal("24.50"))
    second = order_refund(order=order, lines={line.pk: 1}, reason="顾客退货", actor=cashier)
    assert (second.offline_amount, second.allocation_amount) == (Decimal("0.00"), Decimal("25.50"))
    assert allocation_balance(employee=e, year=setting.year) == Decimal("50.00")
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED


def test_the_day_report_and_the_cash_up_record_the_difference(api, goods, cashier):
    chestnut, tea = goods[0], goods[1]
    api.post(URL, {"client_id": "d-1", "lines": [{"product": chestnut.pk, "quantity": 2}], "cash": "60"}, format="json")
    r = api.post(URL, {"client_id": "d-2", "lines": [{"product": tea.pk, "quantity": 1}], "cash": "88"}, format="json")
    order = Order.objects.get(number=r.json()["number"])
    order_refund(order=order, lines=None, reason="包装破损", actor=cashier)
    today = timezone.localdate()
    report = counter_day_report(day=today)
    assert (report.sales, report.total, report.cash, report.returned_cash) == (2, Decimal("139.00"), Decimal("139.00"), Decimal("88.00"))
    assert report.expected_cash == Decimal("51.00")
    assert {(p.name, p.units, p.returned_units) for p in report.products} == {("镇安板栗", 2, 0), ("特级绿茶", 1, 1)}
    count = till_count_record(day=today, counted="50.00", author=cashier, note="少一元")
    assert (count.expected, count.difference) == (Decimal("51.00"), Decimal("-1.00"))
    assert counter_day_report(day=today).till == count
    assert TillCount.objects.count() == 1
    assert counter_day_xlsx(counter_day_report(day=today))[:2] == b"PK"
