"""Cart, checkout, orders and allocation as site pages, through marketplace's services."""

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from marketplace.models import Order
from marketplace.services.allocation import allocation_balance, allocation_grant
from tests.cms.factories import catalogue
from tests.households.factories import UserFactory
from tests.marketplace.factories import EmployeeFactory, FakeProvider, allocation_year, use_provider

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_card_provider(monkeypatch):
    use_provider(monkeypatch, None)


@pytest.fixture
def employee():
    setting = allocation_year()
    employee = EmployeeFactory(user=UserFactory(username="buyer"))
    allocation_grant(employee=employee, year=setting.year)
    return employee


@pytest.fixture
def shop():
    return catalogue(2, price="100.00", units=5)


def test_a_visitor_who_adds_to_cart_signs_in_and_comes_back_to_finish_the_add(client, employee, shop):
    product, page = shop.products[0], shop.pages[0]
    response = client.post("/cart/add/", {"product": product.pk, "quantity": 2, "next": page.url})
    assert response.status_code == 302
    login = urlsplit(response.url)
    assert login.path == "/accounts/login/"
    back = parse_qs(login.query)["next"][0]
    response = client.post("/accounts/login/", {"username": "buyer", "password": "pw-relief-1", "next": back})
    assert response.status_code == 302 and response.url == back
    confirm = client.get(back)
    assert confirm.status_code == 200 and product.name in confirm.content.decode()
    assert 'value="2"' in confirm.content.decode()
    response = client.post("/cart/add/", {"product": product.pk, "quantity": 2, "next": page.url})
    assert response.status_code == 302 and response.url == "/cart/"
    cart = client.get("/cart/").content.decode()
    assert product.name in cart and "¥200.00" in cart


def test_adding_twice_adds_up_and_the_cart_page_can_set_and_remove(client, employee, shop):
    client.force_login(employee.user)
    product = shop.products[0]
    client.post("/cart/add/", {"product": product.pk, "quantity": 1})
    client.post("/cart/add/", {"product": product.pk, "quantity": 2})
    assert "¥300.00" in client.get("/cart/").content.decode()
    client.post("/cart/add/", {"product": product.pk, "quantity": 1, "set": "1"})
    assert "¥100.00" in client.get("/cart/").content.decode()
    client.post("/cart/add/", {"product": product.pk, "quantity": 0, "set": "1"})
    assert "购物车是空的" in client.get("/cart/").content.decode()


def test_checkout_with_the_allocation_places_a_paid_order_and_lowers_the_balance(client, employee, shop):
    client.force_login(employee.user)
    client.post("/cart/add/", {"product": shop.products[0].pk, "quantity": 2})
    page = client.get("/checkout/").content.decode()
    assert "¥200.00" in page
    response = client.post("/checkout/", {"fulfilment": "pickup"})
    order = Order.objects.get(employee=employee)
    assert response.status_code == 302 and response.url == f"/orders/{order.number}/"
    assert order.status == Order.Status.PAID and order.allocation_amount == Decimal("200.00")
    confirmation = client.get(response.url).content.decode()
    assert order.number in confirmation and "¥200.00" in confirmation
    assert order.number in client.get("/orders/").content.decode()
    assert "¥500.00" in client.get("/allocation/").content.decode()
    assert allocation_balance(employee=employee, year=order.year) == Decimal("500.00")


def test_an_order_over_the_balance_without_card_payment_says_card_payment_is_not_configured(client, employee):
    shop = catalogue(1, price="400.00", units=5)
    client.force_login(employee.user)
    client.post("/cart/add/", {"product": shop.products[0].pk, "quantity": 2})
    page = client.get("/checkout/").content.decode()
    assert "银行卡支付未开通" in page
    assert "¥100.00" in page  # over the balance by this much
    response = client.post("/checkout/", {"fulfilment": "pickup"})
    assert response.status_code == 409
    assert not Order.objects.exists()


def test_an_order_over_the_balance_goes_to_the_card_payment_step_when_configured(client, employee, monkeypatch):
    fake = FakeProvider()
    use_provider(monkeypatch, fake)
    shop = catalogue(1, price="400.00", units=5)
    client.force_login(employee.user)
    client.post("/cart/add/", {"product": shop.products[0].pk, "quantity": 2})
    page = client.get("/checkout/").content.decode()
    assert 'data-testid="card-step"' in page
    response = client.post("/checkout/", {"fulfilment": "pickup"})
    order = Order.objects.get()
    assert response.status_code == 302 and response.url == f"https://pay.example/{order.number}"
    assert order.card_amount == Decimal("100.00") and order.status == Order.Status.PENDING_PAYMENT


def test_more_than_in_stock_is_refused_with_a_clear_message(client, employee, shop):
    client.force_login(employee.user)
    client.post("/cart/add/", {"product": shop.products[0].pk, "quantity": 6})
    page = client.get("/checkout/").content.decode()
    assert "5" in page and shop.products[0].name in page
    response = client.post("/checkout/", {"fulfilment": "pickup"})
    assert response.status_code == 409
    assert shop.products[0].name in response.content.decode()
    assert not Order.objects.exists()


def test_a_user_without_an_employee_record_is_told_only_employees_can_shop(client, shop):
    client.force_login(UserFactory(username="visitor"))
    for url in ("/cart/", "/checkout/", "/orders/", "/allocation/"):
        response = client.get(url)
        assert response.status_code == 403
        assert "干部职工" in response.content.decode()
    response = client.post("/cart/add/", {"product": shop.products[0].pk, "quantity": 1})
    assert response.status_code == 403


def test_an_employee_cannot_see_another_employees_order(client, employee, shop):
    other = EmployeeFactory()
    allocation_grant(employee=other, year=allocation_year().year)
    client.force_login(other.user)
    client.post("/cart/add/", {"product": shop.products[0].pk, "quantity": 1})
    client.post("/checkout/", {"fulfilment": "pickup"})
    order = Order.objects.get(employee=other)
    client.force_login(employee.user)
    assert client.get(f"/orders/{order.number}/").status_code == 404


def test_cancelling_a_paid_order_gives_the_allocation_back(client, employee, shop):
    client.force_login(employee.user)
    client.post("/cart/add/", {"product": shop.products[0].pk, "quantity": 1})
    client.post("/checkout/", {"fulfilment": "pickup"})
    order = Order.objects.get()
    response = client.post(f"/orders/{order.number}/cancel/", {"reason": "买错了"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert allocation_balance(employee=employee, year=order.year) == Decimal("700.00")


def test_home_shows_the_signed_in_employees_remaining_allocation(client, employee, shop):
    client.force_login(employee.user)
    html = client.get("/").content.decode()
    assert 'data-testid="home-balance"' in html and "¥700.00" in html
