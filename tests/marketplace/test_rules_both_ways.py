"""Each business rule gives the same answer through the storefront (HTML) and the JSON API:
both call the one function that owns it (order_transition, ensure_may_shop)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from rest_framework.test import APIClient

from core import roles
from marketplace.models import CartItem, Order, OrderEvent
from marketplace.services.allocation import allocation_balance, allocation_grant
from marketplace.services.cart import cart_item_set
from marketplace.services.checkout import checkout_submit
from marketplace.services.orders import InvalidTransition, TransitionNotAllowed, order_may_transition, order_transition
from tests.households.factories import UserFactory
from tests.logistics.factories import SupermarketFactory, staff_at
from tests.marketplace.factories import EmployeeFactory, ProductFactory, allocation_year, stock_batch, use_provider

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def zh_and_no_card(monkeypatch):
    use_provider(monkeypatch, None)
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def shop():
    return SupermarketFactory()


@pytest.fixture
def product(shop):
    product = ProductFactory(price=Decimal("50.00"))
    stock_batch(product, 20, facility=shop)
    return product


def _employee(**fields):
    setting = allocation_year()
    employee = EmployeeFactory(**fields)
    allocation_grant(employee=employee, year=setting.year)
    return employee


def _html(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _paid_order(employee, product):
    cart_item_set(employee=employee, product=product, quantity=2)
    order = checkout_submit(employee=employee).order
    assert order.status == Order.Status.PAID
    return order


def _follow_message(client, response) -> str:
    assert response.status_code == 302
    return client.get(response["Location"]).content.decode()


# --- the order status machine -------------------------------------------------------------------


@pytest.mark.parametrize("way", ["html", "api"])
def test_an_employee_cancelling_an_order_being_picked_is_refused_the_same_way_both_ways(way, shop, product):
    employee = _employee()
    order = _paid_order(employee, product)
    order_transition(order=order, to=Order.Status.PICKING, actor=staff_at(shop, roles.SUPERMARKET_STAFF))

    if way == "html":
        client = _html(employee.user)
        said = _follow_message(client, client.post(f"/orders/{order.number}/cancel/"))
    else:
        response = _api(employee.user).post(f"/api/v1/orders/{order.number}/cancel/")
        assert response.status_code == 409
        said = response.json()["detail"]

    assert f"已在为订单{order.number}拣货" in said
    assert Order.objects.get(pk=order.pk).status == Order.Status.PICKING
    assert allocation_balance(employee=employee, year=order.year) == Decimal("600.00")
    assert not OrderEvent.objects.filter(order=order, to_status=Order.Status.CANCELLED).exists()


@pytest.mark.parametrize("way", ["html", "api"])
def test_an_employee_cancelling_before_picking_starts_gets_the_units_and_allocation_back_both_ways(way, product):
    employee = _employee()
    order = _paid_order(employee, product)

    if way == "html":
        client = _html(employee.user)
        said = _follow_message(client, client.post(f"/orders/{order.number}/cancel/"))
        assert f"订单 {order.number} 已取消" in said
    else:
        response = _api(employee.user).post(f"/api/v1/orders/{order.number}/cancel/")
        assert response.status_code == 200 and response.json()["status"] == Order.Status.CANCELLED

    assert Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED
    assert allocation_balance(employee=employee, year=order.year) == Decimal("700.00")
    event = OrderEvent.objects.get(order=order, to_status=Order.Status.CANCELLED)
    assert (event.from_status, event.author_id) == (Order.Status.PAID, employee.user_id)


def test_the_order_page_offers_cancel_exactly_when_the_machine_allows_it(shop, product):
    employee = _employee()
    order = _paid_order(employee, product)
    client = _html(employee.user)
    assert f"/orders/{order.number}/cancel/" in client.get(f"/orders/{order.number}/").content.decode()

    order_transition(order=order, to=Order.Status.PICKING, actor=staff_at(shop, roles.SUPERMARKET_STAFF))

    assert f"/orders/{order.number}/cancel/" not in client.get(f"/orders/{order.number}/").content.decode()
    assert order_may_transition(order=order, to=Order.Status.CANCELLED, actor=employee.user) is False


def test_the_supermarket_may_cancel_an_order_being_picked_but_only_with_a_reason(client, shop, product):
    staff = staff_at(shop, roles.SUPERMARKET_STAFF)
    employee = _employee()
    order = _paid_order(employee, product)
    order_transition(order=order, to=Order.Status.PICKING, actor=staff)
    client.force_login(staff)

    # refused: the order page comes back with the cancel form open and the message in its error box
    response = client.post(f"/staff/orders/{order.number}/cancel/", {"reason": "  "})
    assert response.status_code == 400
    assert "请说明取消订单的原因" in response.content.decode().split('class="error-summary"')[1]
    assert Order.objects.get(pk=order.pk).status == Order.Status.PICKING

    client.post(f"/staff/orders/{order.number}/cancel/", {"reason": "缺货"})

    assert Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED
    assert OrderEvent.objects.get(order=order, to_status=Order.Status.CANCELLED).note == "缺货"
    assert allocation_balance(employee=employee, year=order.year) == Decimal("700.00")


def test_a_change_not_in_the_table_is_refused_whoever_asks(shop, product):
    staff = staff_at(shop, roles.SUPERMARKET_STAFF)
    order = _paid_order(_employee(), product)

    for to in (Order.Status.COMPLETED, Order.Status.REFUNDED, Order.Status.PENDING_PAYMENT, Order.Status.PAID):
        with pytest.raises(InvalidTransition):
            order_transition(order=order, to=to, actor=staff)
    with pytest.raises(InvalidTransition):  # fulfilment is the supermarket's, not the employee's
        order_transition(order=order, to=Order.Status.PICKING, actor=order.employee.user)
    with pytest.raises(TransitionNotAllowed):  # a stranger to the order
        order_transition(order=order, to=Order.Status.CANCELLED, actor=UserFactory())
    with pytest.raises(InvalidTransition):  # "refunded" only once every unit has been refunded
        for step in (Order.Status.PICKING, Order.Status.READY_FOR_PICKUP):
            order_transition(order=order, to=step, actor=staff)
        order_transition(order=order, to=Order.Status.REFUNDED, actor=staff, reason="全部退货")

    assert Order.objects.get(pk=order.pk).status == Order.Status.READY_FOR_PICKUP


def test_another_employees_order_cannot_be_cancelled_by_either_way(product):
    owner, other = _employee(), _employee()
    order = _paid_order(owner, product)

    assert _html(other.user).post(f"/orders/{order.number}/cancel/").status_code == 404
    assert _api(other.user).post(f"/api/v1/orders/{order.number}/cancel/").status_code == 404
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID


# --- who may shop -------------------------------------------------------------------------------


def _make_inactive_employee():
    return _employee(active=False)


def _make_employee_of_inactive_employer():
    employee = _employee()
    employee.employer.active = False
    employee.employer.save(update_fields=["active"])
    return employee


def _make_employee_outside_the_window():
    employee = _employee()
    today = timezone.localdate()
    if today < datetime.date(today.year, 12, 31):  # the window opens tomorrow
        allocation_year(today.year, opens_on=today + datetime.timedelta(days=1))
    else:  # 31 December: it closed yesterday
        allocation_year(today.year, closes_on=today - datetime.timedelta(days=1))
    return employee


REFUSED = {
    "inactive employee": (_make_inactive_employee, "职工账号已停用"),
    "employer not taking part": (_make_employee_of_inactive_employer, "不再参加"),
    "outside the window": (_make_employee_outside_the_window, "开放时间"),
}


@pytest.mark.parametrize("case", REFUSED)
@pytest.mark.parametrize("way", ["html", "api"])
def test_who_may_not_shop_cannot_add_to_the_cart_either_way(case, way, product):
    make, reason = REFUSED[case]
    employee = make()

    if way == "html":
        response = _html(employee.user).post("/cart/add/", {"product": product.pk, "quantity": 1})
        said = response.content.decode()
    else:
        response = _api(employee.user).post("/api/v1/cart/items/", {"product": product.pk, "quantity": 1}, format="json")
        said = response.json()["detail"]

    assert response.status_code == 403
    assert reason in said
    assert not CartItem.objects.filter(cart__employee=employee).exists()


@pytest.mark.parametrize("case", REFUSED)
@pytest.mark.parametrize("way", ["html", "api"])
def test_who_may_not_shop_cannot_check_out_a_cart_filled_earlier_either_way(case, way, product):
    make, reason = REFUSED[case]
    employee = make()
    CartItem.objects.create(cart=_cart(employee), product=product, quantity=1)  # filled while they still could

    if way == "html":
        client = _html(employee.user)
        assert reason in client.get("/checkout/").content.decode()  # the preview says so before the button
        assert reason in client.get("/cart/").content.decode()
        response = client.post("/checkout/", {"fulfilment": "pickup"})
        said = response.content.decode()
    else:
        client = _api(employee.user)
        assert reason in " ".join(client.get("/api/v1/cart/").json()["problems"])
        response = client.post("/api/v1/checkout/", {"fulfilment": "pickup"}, format="json")
        said = response.json()["detail"]

    assert response.status_code == 403
    assert reason in said
    assert not Order.objects.filter(employee=employee).exists()
    assert CartItem.objects.filter(cart__employee=employee).count() == 1


def _cart(employee):
    from marketplace.models import Cart

    return Cart.objects.get_or_create(employee=employee)[0]


def test_the_allocation_page_says_why_someone_may_not_shop(client, product):
    employee = _make_inactive_employee()
    client.force_login(employee.user)

    page = client.get("/allocation/")

    assert page.status_code == 200 and "职工账号已停用" in page.content.decode()


def test_an_employee_who_may_shop_still_adds_and_checks_out_both_ways(product):
    html_buyer, api_buyer = _employee(), _employee()

    html = _html(html_buyer.user)
    html.post("/cart/add/", {"product": product.pk, "quantity": 1})
    assert html.post("/checkout/", {"fulfilment": "pickup"}).status_code == 302
    api = _api(api_buyer.user)
    assert api.post("/api/v1/cart/items/", {"product": product.pk, "quantity": 1}, format="json").status_code == 200
    assert api.post("/api/v1/checkout/", {"fulfilment": "pickup"}, format="json").status_code == 201

    assert Order.objects.filter(status=Order.Status.PAID).count() == 2
