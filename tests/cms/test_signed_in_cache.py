"""Signed-in employees get the storefront's pages from the shared page cache, each filled in with
their own name, balance and cart; no person's figures ever reach a shared entry or another person."""

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client

from cms.cache import CACHED_HEADER, PLACEHOLDERS
from marketplace.services.allocation import allocation_grant, allocation_refund
from marketplace.services.cart import cart_item_set
from marketplace.services.checkout import checkout_submit
from tests.cms.factories import catalogue
from tests.marketplace.factories import EmployeeFactory, allocation_year

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return catalogue(3, price="40.00", with_images=True)


@pytest.fixture
def no_provider(monkeypatch):
    monkeypatch.setattr("marketplace.payments.base.get_provider", lambda: None)


def _employee(name):
    setting = allocation_year()
    employee = EmployeeFactory(name=name)
    allocation_grant(employee=employee, year=setting.year)
    return employee


def _client(employee):
    client = Client()
    client.force_login(employee.user)
    return client


def _figures(html):
    found = {}
    for field in ("name", "balance", "cart"):
        m = re.search(rf'data-testid="shopper-{field}">([^<]*)<', html)
        found[field] = m.group(1) if m else None
    return found


def _stored_pages():
    """Every page body the cache holds for signed-in employees (locmem, or Redis when set)."""
    import pickle

    if isinstance(cache._cache, dict):  # locmem
        return [pickle.loads(value)[1] for key, value in list(cache._cache.items()) if ":employee:" in key]
    client = cache._cache.get_client()
    return [cache._cache._serializer.loads(client.get(key))[1] for key in client.scan_iter("*:employee:*")]


@pytest.mark.parametrize("which", ["home", "listing", "product"])
def test_two_employees_each_see_only_their_own_figures_and_the_shared_entry_holds_none(shop, which, no_provider):
    url = {"home": "/", "listing": shop.category.url, "product": shop.pages[0].url}[which]
    wang, li = _employee("王小明"), _employee("李<b>华</b>")
    cart_item_set(employee=wang, product=shop.products[0], quantity=2)
    cart_item_set(employee=li, product=shop.products[1], quantity=1)
    spent = checkout_submit(employee=li).order.allocation_amount
    li_balance = f"¥{Decimal('700.00') - spent:,.2f}"
    cart_item_set(employee=li, product=shop.products[2], quantity=3)
    as_wang, as_li = _client(wang), _client(li)

    first = as_wang.get(url)
    second = as_li.get(url)
    again = as_wang.get(url)

    assert first[CACHED_HEADER] == "miss" and second[CACHED_HEADER] == "hit" and again[CACHED_HEADER] == "hit"
    assert _figures(first.content.decode()) == {"name": "王小明", "balance": "¥700.00", "cart": "2"}
    assert _figures(again.content.decode()) == {"name": "王小明", "balance": "¥700.00", "cart": "2"}
    li_html = second.content.decode()
    assert _figures(li_html) == {"name": "李&lt;b&gt;华&lt;/b&gt;", "balance": li_balance, "cart": "3"}
    assert "王小明" not in li_html and "李" not in first.content.decode()
    stored = _stored_pages()
    assert stored, "the signed-in page was stored once for every employee"
    for body in stored:
        assert "王小明" not in body and "李" not in body and "700.00" not in body and li_balance not in body
        assert all(placeholder in body for placeholder in PLACEHOLDERS.values())
        assert 'name="csrfmiddlewaretoken" value="__storefront_csrf_token__"' in body or "csrfmiddlewaretoken" not in body


def test_a_warm_signed_in_page_runs_no_sql(shop, django_assert_num_queries):
    employee = _employee("王小明")
    client = _client(employee)
    client.get(shop.pages[0].url)
    with django_assert_num_queries(0):
        response = client.get(shop.pages[0].url)
    assert response[CACHED_HEADER] == "hit"
    assert _figures(response.content.decode())["name"] == "王小明"


def test_the_card_follows_cart_checkout_and_allocation_changes(shop, no_provider):
    employee = _employee("王小明")
    client = _client(employee)
    url = shop.pages[0].url
    assert _figures(client.get(url).content.decode()) == {"name": "王小明", "balance": "¥700.00", "cart": "0"}

    cart_item_set(employee=employee, product=shop.products[0], quantity=2)
    assert _figures(client.get(url).content.decode())["cart"] == "2"

    order = checkout_submit(employee=employee).order
    left = Decimal("700.00") - order.allocation_amount
    assert order.allocation_amount > 0
    assert _figures(client.get(url).content.decode()) == {"name": "王小明", "balance": f"¥{left:,.2f}", "cart": "0"}

    allocation_refund(employee=employee, year=order.year, amount=Decimal("20.00"), order_number=order.number, key="test-refund")
    assert _figures(client.get(url).content.decode())["balance"] == f"¥{left + 20:,.2f}"

    employee.name = "王大明"
    employee.save()
    assert _figures(client.get(url).content.decode())["name"] == "王大明"

    # the county office's correction goes through an update() (no save signal): the card follows too
    from marketplace.services.employees import employee_update

    employee_update(employee=employee, name="王明", staff_number=employee.staff_number)
    assert _figures(client.get(url).content.decode())["name"] == "王明"


def test_a_changed_password_is_not_trusted_from_the_cache(shop):
    employee = _employee("王小明")
    client = _client(employee)
    client.get("/")
    employee.user.set_password("another-long-password-1")
    employee.user.save()
    response = client.get("/")
    assert "王小明" not in response.content.decode()


def test_staff_are_not_given_the_employees_shared_page(shop):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("staffer", password="x-long-password-1")
    client = Client()
    client.force_login(user)
    response = client.get(shop.pages[0].url)
    assert response.status_code == 200 and response.get(CACHED_HEADER) != "hit"
    assert "__shopper_" not in response.content.decode()


def test_a_card_stored_by_a_slow_reader_after_a_write_is_never_served(shop):
    from marketplace.shopper_card import _key, shopper_card_build, shopper_card_cached

    employee = _employee("王小明")
    stale = shopper_card_build(employee)  # a reader read the figures ...
    cart_item_set(employee=employee, product=shop.products[0], quantity=1)  # ... a writer committed ...
    cache.set(_key(employee.pk), stale)  # ... and the reader stored what it had read
    assert shopper_card_cached(employee.pk) is None
    assert _figures(_client(employee).get(shop.pages[0].url).content.decode())["cart"] == "1"


def test_the_cart_and_checkout_pages_make_the_card_from_their_own_reads(shop, no_provider, django_assert_num_queries):
    """After a cart write the card is stale; the cart page reads the cart and the balance anyway and
    the header takes them from there (no reads of its own), and keeps the card for the next page."""
    from marketplace.shopper_card import shopper_card_cached

    employee = _employee("王小明")
    client = _client(employee)
    client.get(shop.pages[0].url)  # the shared page is stored
    cart_item_set(employee=employee, product=shop.products[0], quantity=2)
    assert shopper_card_cached(employee.pk) is None
    with django_assert_num_queries(5):  # the user, the cart, the year's setting, the balance, the stock; no card reads
        html = client.get("/cart/").content.decode()
    assert _figures(html) == {"name": "王小明", "balance": "¥700.00", "cart": "2"}
    kept = shopper_card_cached(employee.pk)
    assert (kept.cart_units, kept.balance, kept.name) == (2, Decimal("700.00"), "王小明")
    with django_assert_num_queries(0):
        assert _figures(client.get(shop.pages[0].url).content.decode())["cart"] == "2"

    cart_item_set(employee=employee, product=shop.products[1], quantity=1)
    assert _figures(client.get("/checkout/").content.decode()) == {"name": "王小明", "balance": "¥700.00", "cart": "3"}
    assert shopper_card_cached(employee.pk).cart_units == 3


def test_a_card_made_by_a_page_whose_figures_a_writer_changed_meanwhile_is_never_served(shop):
    from marketplace.services.cart import cart_get
    from marketplace.services.checkout import checkout_preview
    from marketplace.shopper_card import shopper_card_cached, shopper_card_keep, shopper_card_lookup

    employee = _employee("王小明")
    card, generation, year = shopper_card_lookup(employee.pk)  # the page looks the card up ...
    lines = cart_get(employee=employee)  # ... reads its figures ...
    preview = checkout_preview(employee=employee, cart=lines)
    cart_item_set(employee=employee, product=shop.products[0], quantity=1)  # ... a writer commits ...
    shopper_card_keep(employee, generation=generation, year=year, cart_units=lines.units, balance=preview.balance)  # ... it keeps them
    assert card is None and lines.units == 0
    assert shopper_card_cached(employee.pk) is None
    assert _figures(_client(employee).get(shop.pages[0].url).content.decode())["cart"] == "1"


def test_outside_the_allocation_window_the_cart_page_does_not_make_the_card(shop, no_provider):
    """The checkout shows no allocation while the window is closed (balance 0); the header still
    shows what is left of the year's allocation, as the allocation page does."""
    import datetime

    from marketplace.shopper_card import shopper_card_cached

    employee = _employee("王小明")
    setting = allocation_year()
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    setting.opens_on, setting.closes_on = setting.opens_on.replace(month=1, day=1), yesterday
    setting.save()
    if yesterday.year != setting.year:  # the first of January: no day of the year is before today
        pytest.skip("no closed window within this year today")
    html = _client(employee).get("/cart/").content.decode()
    assert _figures(html)["balance"] == "¥700.00"
    assert shopper_card_cached(employee.pk).balance == Decimal("700.00")


def test_a_stale_card_is_made_again_from_one_statement(shop, no_provider, django_assert_num_queries):
    """The cart's units and the balance in one statement, the generation read once with the card."""
    from marketplace.models import Employee
    from marketplace.shopper_card import shopper_card, shopper_card_cached, shopper_card_forget

    employee = _employee("王小明")
    nobody = Employee.objects.get(pk=EmployeeFactory(name="新人").pk)  # no cart, no allocation yet
    cart_item_set(employee=employee, product=shop.products[0], quantity=2)
    cart_item_set(employee=employee, product=shop.products[1], quantity=1)
    spent = checkout_submit(employee=employee).order.allocation_amount
    cart_item_set(employee=employee, product=shop.products[2], quantity=4)
    for who, units, balance in ((employee, 4, Decimal("700.00") - spent), (nobody, 0, Decimal("0.00"))):
        shopper_card_forget(employee_id=who.pk)
        with django_assert_num_queries(1):
            card = shopper_card(who)
        assert (card.cart_units, card.balance) == (units, balance)
        assert shopper_card_cached(who.pk) == card
