"""The employee's cart — the only writer of Cart and CartItem.

Only someone who may shop (``eligibility.ensure_may_shop``) puts anything in it.

The server prices every line from ``Product.price`` when the cart is read; a price sent by a
client is never looked at. Limits: ``Product.max_per_order`` per product and the county's
``AllocationYear.max_units_per_order`` for all units of one order together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connections, router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.cache_writes import cache_writes_together
from core.compiled_query import CompiledModelQuery
from core.errors import DomainError
from core.money import ZERO, yuan
from core.one_row import one_row_statement
from core.parsing import InvalidInput, parse_int
from core.sql_insert import insert_values, mark_saved
from core.sql_prepared import prepared_cursor

from ..models import Cart, CartItem, Employee, Product
from ..shopper_card import shopper_card_forget
from .allocation import allocation_year_current
from .eligibility import ensure_may_shop


class CartError(DomainError):
    code = "cart_invalid"


class QuantityLimitExceeded(CartError):
    code = "quantity_limit"


@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: int
    unit_price: Decimal
    line_total: Decimal


@dataclass
class CartView:
    employee: Employee
    lines: list[CartLine] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return yuan(sum((line.line_total for line in self.lines), ZERO))

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def is_empty(self) -> bool:
        return not self.lines


# The reads every cart write and every cart page make, compiled once per thread and database:
# building and compiling these querysets on each request cost more than running them.
_lines_of_cart = CompiledModelQuery(lambda cart_id: CartItem.objects.filter(cart_id=cart_id).select_related("product", "product__sku"))
_lines_of_employee = CompiledModelQuery(
    lambda employee_id: CartItem.objects.filter(cart__employee_id=employee_id).select_related("product", "product__sku").order_by("id")
)


def product_for_cart(raw) -> Product | None:
    """The product (its SKU read with it) a form or an API call names by its id, or None: not a
    whole number ≥ 1, or no such product. One statement worked out once."""
    try:
        pk = parse_int(raw, min_value=1)
    except InvalidInput:
        return None
    return one_row_statement(Product, ("sku",), router.db_for_read(Product)).get(pk)


def _product(product: Product | int) -> Product:
    if isinstance(product, Product):
        return product
    found = product_for_cart(product)
    if found is None:
        raise CartError(_("This product does not exist."))
    return found


def _locked_cart(employee: Employee) -> Cart:
    """The employee's cart, locked (first in the lock order) and marked changed now, in one
    statement: the row lock an ``UPDATE`` takes serialises the cart's writers and checkout as
    ``SELECT … FOR UPDATE`` did, and the touch that followed every write needs no statement of its
    own (a refused write is rolled back with it)."""
    shopper_card_forget(employee_id=employee.pk)  # every cart write locks the cart first: its count changes
    connection = connections[router.db_for_write(Cart)]
    now = timezone.now()
    cart = _touch_cart(connection, employee.pk, now)
    if cart is None:
        Cart.objects.get_or_create(employee=employee)
        cart = _touch_cart(connection, employee.pk, now)
    return cart


def _touch_cart(connection, employee_id: int, now) -> Cart | None:
    table = connection.ops.quote_name(Cart._meta.db_table)
    with prepared_cursor(connection.alias) as cursor:
        cursor.execute(
            f"UPDATE {table} SET updated_at = %s WHERE employee_id = %s RETURNING id",
            [Cart._meta.get_field("updated_at").get_db_prep_save(now, connection), employee_id],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    cart = Cart(pk=row[0], employee_id=employee_id, updated_at=now)
    cart._state.adding, cart._state.db = False, connection.alias
    return cart


def _insert_line(cart: Cart, product: Product, quantity: int) -> CartItem:
    """The new line, inserted as ``create()`` would insert it, from SQL worked out once."""
    item = CartItem(cart=cart, product=product, quantity=quantity)
    connection = connections[router.db_for_write(CartItem)]
    sql, params = insert_values([item], returning=connection.ops.quote_name("id"))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        mark_saved(item, cursor.fetchone()[0])
    return item


def cart_limits_problems(*, items: list[tuple[Product, int]], max_units_per_order: int) -> list[str]:
    """Every limit the (product, quantity) pairs break, as messages a person can act on."""
    problems = []
    for product, quantity in items:
        if not product.active:
            problems.append(_("%(product)s is no longer on sale.") % {"product": product.name})
        if product.max_per_order and quantity > product.max_per_order:
            problems.append(
                _("%(product)s: at most %(limit)d per order (you have %(quantity)d).")
                % {"product": product.name, "limit": product.max_per_order, "quantity": quantity}
            )
    units = sum(q for _p, q in items)
    if max_units_per_order and units > max_units_per_order:
        problems.append(
            _("An order may hold at most %(limit)d units in all (you have %(units)d).") % {"limit": max_units_per_order, "units": units}
        )
    return problems


def cart_get(*, employee: Employee) -> CartView:
    """The cart with every line priced now, from the product's current price."""
    return _cart_view(employee, _lines_of_employee(employee.pk, using=router.db_for_read(CartItem)))


def _cart_view(employee: Employee, items) -> CartView:
    lines = [
        CartLine(product=i.product, quantity=i.quantity, unit_price=i.product.price, line_total=yuan(i.product.price * i.quantity))
        for i in sorted(items, key=lambda i: i.pk)
    ]
    return CartView(employee=employee, lines=lines)


def cart_item_set(*, employee: Employee, product: Product | int, quantity: int) -> CartView:
    """Set how many of ``product`` the cart holds (0 removes it); limits are checked here."""
    return _cart_item_write(employee=employee, product=product, quantity=quantity, add=False)


def cart_item_add(*, employee: Employee, product: Product | int, quantity: int) -> CartView:
    """Add ``quantity`` units of ``product`` to what the cart holds (read under the cart's lock)."""
    return _cart_item_write(employee=employee, product=product, quantity=quantity, add=True)


@cache_writes_together()  # outside the transaction: the card's "now" and "at commit" invalidations, one write
@transaction.atomic
def _cart_item_write(*, employee: Employee, product: Product | int, quantity: int, add: bool) -> CartView:
    try:
        quantity = int(quantity)
    except (TypeError, ValueError):
        raise CartError(_("The quantity must be a whole number.")) from None
    if quantity < 0:
        raise CartError(_("The quantity cannot be negative."))
    product = _product(product)
    cart = _locked_cart(employee)
    # the cart's lines, read once under its lock: the limits, the write and the answer use them
    items = _lines_of_cart(cart.pk, using=router.db_for_write(CartItem))
    mine = next((i for i in items if i.product_id == product.pk), None)
    if add:
        quantity += mine.quantity if mine else 0
    if quantity == 0:  # taking something out is always allowed, even for someone who may no longer shop
        if mine is not None:
            CartItem.objects.filter(pk=mine.pk).delete()
            items.remove(mine)
        return _cart_view(employee, items)
    ensure_may_shop(employee)
    if not product.active:
        raise CartError(_("%(product)s is no longer on sale.") % {"product": product.name})
    others = [(i.product, i.quantity) for i in items if i is not mine]
    problems = cart_limits_problems(
        items=[*others, (product, quantity)], max_units_per_order=allocation_year_current().max_units_per_order
    )
    if problems:
        raise QuantityLimitExceeded(" ".join(problems), problems=problems)
    if mine is not None:
        CartItem.objects.filter(pk=mine.pk).update(quantity=quantity)
        mine.quantity = quantity
    else:
        items.append(_insert_line(cart, product, quantity))
    return _cart_view(employee, items)


def cart_item_remove(*, employee: Employee, product: Product | int) -> CartView:
    return cart_item_set(employee=employee, product=product, quantity=0)


@cache_writes_together()
@transaction.atomic
def cart_clear(*, employee: Employee) -> None:
    cart = _locked_cart(employee)
    CartItem.objects.filter(cart=cart).delete()
