"""Supermarket staff pages: the fulfilment queue, its steps, cancellations and returns."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from core import roles
from marketplace.models import Order, OrderEvent, OrderLine, Payment, Refund
from marketplace.services.allocation import allocation_balance, allocation_grant
from marketplace.services.cart import cart_item_set
from marketplace.services.checkout import checkout_submit
from tests.households.factories import UserFactory
from tests.logistics.factories import CollectionPointFactory, SupermarketFactory, staff_at
from tests.marketplace.factories import EmployeeFactory, EmployerFactory, ProductFactory, allocation_year, stock_batch

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def zh():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def shop():
    return SupermarketFactory()


@pytest.fixture
def staff(shop):
    return staff_at(shop, roles.SUPERMARKET_STAFF)


@pytest.fixture
def products(shop):
    chestnut = ProductFactory(name="镇安板栗礼盒", price=Decimal("80.00"))
    tea = ProductFactory(name="特级绿茶", price=Decimal("120.00"))
    stock_batch(chestnut, 50, facility=shop)
    stock_batch(tea, 50, facility=shop)
    return chestnut, tea


def _order(*, employer=None, fulfilment="pickup", items=()):
    setting = allocation_year()
    employee = EmployeeFactory(employer=employer) if employer else EmployeeFactory()
    allocation_grant(employee=employee, year=setting.year)
    for product, quantity in items:
        cart_item_set(employee=employee, product=product, quantity=quantity)
    order = checkout_submit(employee=employee, fulfilment=fulfilment).order
    assert order.status == Order.Status.PAID
    return order


def _status(order) -> str:
    return Order.objects.get(pk=order.pk).status


def test_anonymous_people_are_sent_to_sign_in(client):
    response = client.get("/staff/orders/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("who", ["employee", "unassigned supermarket staff", "staff of a collection point"])
def test_only_supermarket_staff_and_the_county_office_may_see_the_queue(client, who):
    if who == "employee":
        user = UserFactory(role=roles.EMPLOYEE)
    elif who == "unassigned supermarket staff":
        user = UserFactory(role=roles.SUPERMARKET_STAFF)
    else:
        user = staff_at(CollectionPointFactory(), roles.SUPERMARKET_STAFF)
    client.force_login(user)
    assert client.get("/staff/orders/").status_code == 403
    assert client.get("/staff/statements/").status_code == 403


def test_a_step_by_someone_not_allowed_changes_nothing(client, products):
    order = _order(items=[(products[0], 1)])
    client.force_login(UserFactory(role=roles.EMPLOYEE))
    assert client.post(f"/staff/orders/{order.number}/step/start_picking/").status_code == 403
    assert _status(order) == Order.Status.PAID


def test_the_county_office_may_work_the_queue(client, products):
    client.force_login(UserFactory(role=roles.COUNTY_OFFICE))
    assert client.get("/staff/orders/").status_code == 200


def test_the_queue_groups_orders_into_pick_lists_per_office_and_pickup(client, staff, products):
    chestnut, tea = products
    edu = EmployerFactory(name="镇安县教育局", office_address="永乐街道1号")
    health = EmployerFactory(name="镇安县卫健局")
    pickup = _order(items=[(chestnut, 2)])
    office_a = _order(employer=edu, fulfilment="office", items=[(chestnut, 1), (tea, 1)])
    office_b = _order(employer=edu, fulfilment="office", items=[(tea, 2)])
    other = _order(employer=health, fulfilment="office", items=[(chestnut, 3)])

    client.force_login(staff)
    response = client.get("/staff/orders/")

    assert response.status_code == 200
    groups = {g.key: g for g in response.context["groups"]}
    assert [o.number for o in groups["pickup"].orders] == [pickup.number]
    edu_group = groups[f"employer-{edu.pk}"]
    assert {o.number for o in edu_group.orders} == {office_a.number, office_b.number}
    assert {r["product"].name: r["quantity"] for r in edu_group.pick_list} == {"镇安板栗礼盒": 1, "特级绿茶": 3}
    assert [o.number for o in groups[f"employer-{health.pk}"].orders] == [other.number]
    html = response.content.decode()
    assert "镇安县教育局" in html and "永乐街道1号" in html
    assert "开始拣货" in html  # the step button, in Chinese


def test_the_queue_leaves_out_orders_not_yet_paid_or_already_completed(client, staff, products):
    done = _order(items=[(products[0], 1)])
    for step in ("start_picking", "ready", "completed"):
        client.force_login(staff)
        client.post(f"/staff/orders/{done.number}/step/{step}/")
    assert _status(done) == Order.Status.COMPLETED
    response = client.get("/staff/orders/")
    assert all(o.number != done.number for g in response.context["groups"] for o in g.orders)


def test_a_pickup_order_goes_picking_ready_collected_with_who_and_when(client, staff, products):
    order = _order(items=[(products[0], 1)])
    client.force_login(staff)

    for step, status in (("start_picking", "picking"), ("ready", "ready"), ("completed", "completed")):
        response = client.post(f"/staff/orders/{order.number}/step/{step}/")
        assert response.status_code == 302
        assert _status(order) == status

    events = list(OrderEvent.objects.filter(order=order).order_by("id").values_list("to_status", "author_id"))
    assert events[1:] == [("picking", staff.pk), ("ready", staff.pk), ("completed", staff.pk)]


def test_an_office_order_goes_out_for_delivery_and_is_delivered(client, staff, products):
    order = _order(fulfilment="office", items=[(products[1], 1)])
    client.force_login(staff)
    client.post(f"/staff/orders/{order.number}/step/start_picking/")
    client.post(f"/staff/orders/{order.number}/step/out_for_delivery/")
    assert _status(order) == Order.Status.OUT_FOR_DELIVERY
    page = client.get(f"/staff/orders/{order.number}/").content.decode()
    assert "已送达" in page  # "Delivered"
    client.post(f"/staff/orders/{order.number}/step/completed/")
    assert _status(order) == Order.Status.COMPLETED


def test_a_step_that_does_not_fit_the_order_is_refused_with_a_message(client, staff, products):
    order = _order(fulfilment="office", items=[(products[1], 1)])
    client.force_login(staff)
    client.post(f"/staff/orders/{order.number}/step/start_picking/")

    response = client.post(f"/staff/orders/{order.number}/step/ready/", follow=True)

    assert _status(order) == Order.Status.PICKING
    messages = [str(m) for m in response.context["messages"]]
    assert messages and "送" in messages[-1]


def test_skipping_picking_is_refused(client, staff, products):
    order = _order(items=[(products[0], 1)])
    client.force_login(staff)
    client.post(f"/staff/orders/{order.number}/step/completed/")
    assert _status(order) == Order.Status.PAID


def _fulfil(client, staff, order):
    client.force_login(staff)
    client.post(f"/staff/orders/{order.number}/step/start_picking/")
    client.post(f"/staff/orders/{order.number}/step/ready/")
    client.post(f"/staff/orders/{order.number}/step/completed/")
    assert _status(order) == Order.Status.COMPLETED


def test_a_return_of_some_units_refunds_them_to_the_allocation(client, staff, products):
    chestnut, tea = products
    order = _order(items=[(chestnut, 3), (tea, 1)])  # 240 + 120 = 360 from the allocation
    _fulfil(client, staff, order)
    line = OrderLine.objects.get(order=order, product=chestnut)

    response = client.post(f"/staff/orders/{order.number}/refund/", {f"units-{line.pk}": "2", "reason": "包装破损"})

    assert response.status_code == 302
    refund = Refund.objects.get(order=order)
    assert (refund.allocation_amount, refund.card_amount) == (Decimal("160.00"), Decimal("0.00"))
    assert sum(rl.units for rl in refund.lines.all()) == 2
    assert _status(order) == Order.Status.COMPLETED  # a partial refund keeps the status
    assert allocation_balance(employee=order.employee, year=order.year) == Decimal("500.00")


def test_a_whole_order_return_refunds_everything_and_marks_it_refunded(client, staff, products):
    order = _order(items=[(products[0], 2)])
    _fulfil(client, staff, order)
    client.post(f"/staff/orders/{order.number}/refund/", {"scope": "whole", "reason": "质量问题"})
    assert _status(order) == Order.Status.REFUNDED
    assert allocation_balance(employee=order.employee, year=order.year) == Decimal("700.00")


def test_a_return_without_a_reason_or_units_changes_nothing(client, staff, products):
    order = _order(items=[(products[0], 2)])
    _fulfil(client, staff, order)
    line = OrderLine.objects.get(order=order)
    client.post(f"/staff/orders/{order.number}/refund/", {f"units-{line.pk}": "1", "reason": ""})
    client.post(f"/staff/orders/{order.number}/refund/", {"reason": "x"})
    response = client.post(f"/staff/orders/{order.number}/refund/", {f"units-{line.pk}": "5", "reason": "too many"})
    assert not Refund.objects.exists()
    assert response.status_code == 400
    html = response.content.decode()
    box = html.split('class="error-summary"')[1].split("</div>")[0]
    assert "可退" in box
    # the form is open again with what was typed
    assert '<details class="card" id="refund" open>' in html
    assert f'name="units-{line.pk}" type="number" min="0" max="2" inputmode="numeric" value="5"' in html
    assert 'value="too many"' in html


def test_a_refund_without_a_reason_marks_the_reason_and_keeps_the_units(client, staff, products):
    order = _order(items=[(products[0], 2)])
    _fulfil(client, staff, order)
    line = OrderLine.objects.get(order=order)
    response = client.post(f"/staff/orders/{order.number}/refund/", {f"units-{line.pk}": "1", "reason": "", "restock": "1"})
    assert response.status_code == 400 and not Refund.objects.exists()
    html = response.content.decode()
    assert 'href="#refund-reason"' in html
    assert 'id="refund-reason" name="reason" required maxlength="200" value="" aria-invalid="true"' in html
    assert 'value="1"' in html and 'name="restock" value="1" style="width:auto" checked' in html


def test_a_cancel_without_a_reason_comes_back_open_and_marked(client, staff, products):
    order = _order(items=[(products[0], 2)])
    client.force_login(staff)
    response = client.post(f"/staff/orders/{order.number}/cancel/", {"reason": " "})
    assert response.status_code == 400
    html = response.content.decode()
    assert '<details class="card" id="cancel" open>' in html and 'href="#cancel-reason"' in html
    assert _status(order) == Order.Status.PAID


def test_an_order_not_yet_fulfilled_is_cancelled_rather_than_refunded(client, staff, products):
    order = _order(items=[(products[0], 2)])
    client.force_login(staff)
    client.post(f"/staff/orders/{order.number}/refund/", {"scope": "whole", "reason": "x"})
    assert not Refund.objects.exists()
    client.post(f"/staff/orders/{order.number}/cancel/", {"reason": "顾客取消"})
    assert _status(order) == Order.Status.CANCELLED
    assert allocation_balance(employee=order.employee, year=order.year) == Decimal("700.00")


def test_the_order_page_shows_lines_history_and_return_form(client, staff, products):
    order = _order(items=[(products[0], 2)])
    _fulfil(client, staff, order)
    page = client.get(f"/staff/orders/{order.number}/").content.decode()
    assert "镇安板栗礼盒" in page and 'name="reason"' in page and "退款" in page
    assert client.get("/staff/orders/NOPE/").status_code == 404


def test_returning_a_card_order_refunds_the_card_part_through_stripe(client, staff, shop, stripe_standin, django_capture_on_commit_callbacks):
    """The whole path: checkout with a card part, paid by webhook, fulfilled, returned."""
    product = ProductFactory(price=Decimal("300.00"))
    stock_batch(product, 10, facility=shop)
    setting = allocation_year()
    employee = EmployeeFactory()
    allocation_grant(employee=employee, year=setting.year)
    cart_item_set(employee=employee, product=product, quantity=3)  # 900: 700 allocation + 200 card
    order = checkout_submit(employee=employee).order
    payment = Payment.objects.get(order=order)
    session = stripe_standin.pay(payment.session_id)
    with django_capture_on_commit_callbacks(execute=True):
        stripe_standin.post_event(client, stripe_standin.session_event("checkout.session.completed", session["id"]))
    assert _status(order) == Order.Status.PAID
    _fulfil(client, staff, order)
    line = OrderLine.objects.get(order=order)

    client.post(f"/staff/orders/{order.number}/refund/", {f"units-{line.pk}": "1", "reason": "退货"})

    refund = Refund.objects.get(order=order)
    assert (refund.card_amount, refund.allocation_amount) == (Decimal("200.00"), Decimal("100.00"))
    [sent] = stripe_standin.requests_to("POST", "/v1/refunds")
    assert sent.params["amount"] == "20000" and sent.idempotency_key == f"refund:{refund.pk}"
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("200.00")


def test_the_admin_menu_leads_staff_to_the_queue_and_the_county_office_to_the_import(client, staff):
    client.force_login(staff)
    html = client.get("/admin/").content.decode()
    assert "/staff/orders/" in html and "/staff/statements/" in html
    assert "/admin/marketplace/employees/import/" not in html
    client.force_login(UserFactory(role=roles.COUNTY_OFFICE))
    assert "/admin/marketplace/employees/import/" in client.get("/admin/").content.decode()
