from decimal import Decimal

import pytest

from marketplace.models import CartItem
from marketplace.services.cart import CartError, QuantityLimitExceeded, cart_get, cart_item_remove, cart_item_set
from tests.marketplace.factories import EmployeeFactory, ProductFactory, allocation_year

pytestmark = pytest.mark.django_db


@pytest.fixture
def employee():
    allocation_year(max_units_per_order=6)
    return EmployeeFactory()


def test_setting_a_quantity_replaces_it_and_zero_removes_the_line(employee):
    product = ProductFactory(price=Decimal("12.50"))
    cart_item_set(employee=employee, product=product, quantity=2)
    cart = cart_item_set(employee=employee, product=product.pk, quantity=3)
    assert [(line.product.pk, line.quantity, line.line_total) for line in cart.lines] == [(product.pk, 3, Decimal("37.50"))]
    assert cart.total == Decimal("37.50") and cart.units == 3

    assert cart_item_set(employee=employee, product=product, quantity=0).is_empty
    cart_item_set(employee=employee, product=product, quantity=1)
    assert cart_item_remove(employee=employee, product=product).is_empty


def test_the_cart_is_priced_now_from_the_product(employee):
    product = ProductFactory(price=Decimal("20.00"))
    cart_item_set(employee=employee, product=product, quantity=2)
    product.price = Decimal("18.00")
    product.save()
    assert cart_get(employee=employee).total == Decimal("36.00")


def test_the_per_product_limit_is_refused_with_a_chinese_message(employee):
    product = ProductFactory(name="特级绿茶 250g", max_per_order=2)
    with pytest.raises(QuantityLimitExceeded) as exc:
        cart_item_set(employee=employee, product=product, quantity=3)
    assert exc.value.message == "特级绿茶 250g：每单最多2件（您选了3件）。"
    assert not CartItem.objects.exists()


def test_the_county_limit_on_units_per_order_counts_every_line(employee):
    a, b = ProductFactory(), ProductFactory()
    cart_item_set(employee=employee, product=a, quantity=4)
    with pytest.raises(QuantityLimitExceeded) as exc:
        cart_item_set(employee=employee, product=b, quantity=3)
    assert "每笔订单合计最多6件" in exc.value.message
    assert cart_item_set(employee=employee, product=b, quantity=2).units == 6


def test_a_product_off_sale_or_unknown_cannot_be_added(employee):
    off = ProductFactory(name="核桃仁", active=False)
    with pytest.raises(CartError) as exc:
        cart_item_set(employee=employee, product=off, quantity=1)
    assert "核桃仁已下架" in exc.value.message
    with pytest.raises(CartError):
        cart_item_set(employee=employee, product=999999, quantity=1)
    with pytest.raises(CartError):
        cart_item_set(employee=employee, product=ProductFactory(), quantity=-1)


def test_each_employee_has_their_own_cart(employee):
    product = ProductFactory()
    other = EmployeeFactory()
    cart_item_set(employee=employee, product=product, quantity=2)
    assert cart_get(employee=other).is_empty


def test_a_product_named_by_id_is_found_only_for_a_whole_number_of_a_product():
    from marketplace.services.cart import product_for_cart

    product = ProductFactory()
    for raw in (product.pk, str(product.pk), f" {product.pk} "):
        found = product_for_cart(raw)
        assert found.pk == product.pk and found.sku.pk == product.sku_id
    for raw in (True, None, "", "abc", f"{product.pk}.0", "-1", "0", "9" * 30, product.pk + 1000):
        assert product_for_cart(raw) is None
