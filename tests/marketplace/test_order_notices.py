"""Order-ready notices: a text message and a notice on 我的订单 when an order is ready or on its way."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core import roles
from core.models import SmsMessage
from marketplace.models import Order, OrderNotice
from marketplace.services.allocation import allocation_grant
from marketplace.services.cart import cart_item_set
from marketplace.services.checkout import checkout_submit
from marketplace.services.notices import order_notice_send
from marketplace.services.orders import order_transition
from tests.logistics.factories import SupermarketFactory, staff_at
from tests.marketplace.factories import EmployeeFactory, EmployerFactory, ProductFactory, allocation_year, stock_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return staff_at(SupermarketFactory(), roles.SUPERMARKET_STAFF)


def _paid_order(staff, *, fulfilment="pickup", phone="13800001111") -> Order:
    product = ProductFactory(name="镇安板栗礼盒", price=Decimal("80.00"))
    stock_batch(product, 10, facility=staff.staff_assignment.facility)
    setting = allocation_year()
    employee = EmployeeFactory(phone=phone, employer=EmployerFactory(office_address="镇安县永乐街道 12 号"))
    allocation_grant(employee=employee, year=setting.year)
    cart_item_set(employee=employee, product=product, quantity=1)
    return checkout_submit(employee=employee, fulfilment=fulfilment).order


def _step(order, status, staff, capture):
    with capture(execute=True):
        order_transition(order=order, to=status, actor=staff)


def test_ready_for_pickup_texts_the_employee_once_and_shows_on_my_orders(staff, client, django_capture_on_commit_callbacks):
    order = _paid_order(staff)
    _step(order, "picking", staff, django_capture_on_commit_callbacks)
    assert not SmsMessage.objects.exists()
    _step(order, "ready", staff, django_capture_on_commit_callbacks)
    message = SmsMessage.objects.get()
    assert message.phone == "13800001111" and order.number in message.text and "自提" in message.text
    order_notice_send(order_id=order.pk, status="ready")  # the task delivered twice
    assert SmsMessage.objects.count() == 1 and OrderNotice.objects.count() == 1
    client.force_login(order.employee.user)
    page = client.get("/orders/").content.decode()
    assert f"您的订单 {order.number} 已备好" in page and "已同时发送短信" in page


def test_out_for_delivery_names_the_office_and_the_notice_leaves_my_orders_once_completed(
    staff, client, django_capture_on_commit_callbacks
):
    order = _paid_order(staff, fulfilment="office")
    _step(order, "picking", staff, django_capture_on_commit_callbacks)
    _step(order, "delivering", staff, django_capture_on_commit_callbacks)
    assert "镇安县永乐街道 12 号" in SmsMessage.objects.get().text
    client.force_login(order.employee.user)
    assert "正在配送" in client.get("/orders/").content.decode()
    _step(order, "completed", staff, django_capture_on_commit_callbacks)
    assert SmsMessage.objects.count() == 1
    assert "正在配送" not in client.get("/orders/").content.decode()


def test_an_employee_without_a_phone_still_sees_the_notice(staff, client, django_capture_on_commit_callbacks):
    order = _paid_order(staff, phone="")
    _step(order, "picking", staff, django_capture_on_commit_callbacks)
    _step(order, "ready", staff, django_capture_on_commit_callbacks)
    assert not SmsMessage.objects.exists()
    assert OrderNotice.objects.get(order=order).texted_to == ""
    client.force_login(order.employee.user)
    assert f"您的订单 {order.number} 已备好" in client.get("/orders/").content.decode()


def test_a_refused_transition_sends_nothing(staff, django_capture_on_commit_callbacks):
    order = _paid_order(staff)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Exception):  # noqa: B017 (InvalidTransition)
        order_transition(order=order, to="ready", actor=staff)  # paid -> ready skips picking
    assert not OrderNotice.objects.exists() and not SmsMessage.objects.exists()
