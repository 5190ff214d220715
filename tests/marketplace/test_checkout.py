from decimal import Decimal

import pytest
from django.db import connection

from logistics.models import BatchMovement, BatchStock
from marketplace.models import AllocationEntry, Order, OrderEvent, OrderLineBatch, Payment
from marketplace.services.allocation import allocation_balance, allocation_grant
from marketplace.services.cart import cart_get, cart_item_set
from marketplace.services.checkout import (
    CardPaymentUnavailable,
    EmptyCart,
    InsufficientStock,
    checkout_preview,
    checkout_submit,
)
from marketplace.services.orders import PaymentProviderError
from tests.marketplace.factories import EmployeeFactory, FakeProvider, ProductFactory, allocation_year, stock_batch, use_provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def employee():
    setting = allocation_year()
    employee = EmployeeFactory()
    allocation_grant(employee=employee, year=setting.year)
    return employee


@pytest.fixture
def no_provider(monkeypatch):
    use_provider(monkeypatch, None)


@pytest.fixture
def provider(monkeypatch):
    fake = FakeProvider()
    use_provider(monkeypatch, fake)
    return fake


def test_checkout_takes_units_from_the_oldest_batch_first_across_batches(employee, no_provider):
    product = ProductFactory(price=Decimal("50.00"))
    newer = stock_batch(product, 10, days_ago=2)
    older = stock_batch(product, 3, days_ago=20)
    cart_item_set(employee=employee, product=product, quantity=5)

    result = checkout_submit(employee=employee)

    order = result.order
    taken = {link.batch_id: link.units for link in OrderLineBatch.objects.filter(line__order=order)}
    assert taken == {older.pk: 3, newer.pk: 2}
    assert BatchStock.objects.get(batch=older).quantity == 0
    assert BatchStock.objects.get(batch=newer).quantity == 8
    assert BatchStock.objects.get(batch=newer).reserved == 0


def test_allocation_only_order_is_paid_at_once_and_units_are_sold(employee, no_provider):
    product = ProductFactory(price=Decimal("120.00"))
    batch = stock_batch(product, 10)
    cart_item_set(employee=employee, product=product, quantity=2)

    result = checkout_submit(employee=employee)

    assert result.payment_url is None
    order = result.order
    assert order.status == Order.Status.PAID and order.paid_at is not None
    assert (order.total, order.allocation_amount, order.card_amount) == (Decimal("240.00"), Decimal("240.00"), Decimal("0.00"))
    assert allocation_balance(employee=employee, year=order.year) == Decimal("460.00")
    kinds = list(BatchMovement.objects.filter(batch=batch, reference_code=order.number).values_list("kind", flat=True))
    assert kinds == ["reserve", "sell"]
    assert cart_get(employee=employee).is_empty
    assert list(OrderEvent.objects.filter(order=order).values_list("to_status", flat=True)) == ["paid"]


def test_allocation_is_taken_first_and_the_excess_goes_to_the_card(employee, provider):
    product = ProductFactory(price=Decimal("300.00"))
    stock_batch(product, 10)
    cart_item_set(employee=employee, product=product, quantity=3)

    result = checkout_submit(employee=employee, success_url="https://shop/ok", cancel_url="https://shop/no")

    order = result.order
    assert (order.allocation_amount, order.card_amount, order.status) == (Decimal("700.00"), Decimal("200.00"), "pending_payment")
    assert result.payment_url == f"https://pay.example/{order.number}"
    assert provider.checkouts == [{"order": order.number, "amount": Decimal("200.00"), "key": f"checkout:{order.number}"}]
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.session_id, payment.amount) == ("pending", f"cs_fake_{order.number}", Decimal("200.00"))
    assert BatchStock.objects.get(batch__sku=product.sku).reserved == 3


def test_without_a_provider_an_order_above_the_balance_is_refused_with_a_clear_message(employee, no_provider):
    product = ProductFactory(price=Decimal("400.00"))
    stock_batch(product, 10)
    cart_item_set(employee=employee, product=product, quantity=2)

    preview = checkout_preview(employee=employee)
    assert not preview.card_available and preview.card_amount == Decimal("100.00")
    assert any("银行卡" in p for p in preview.problems)

    with pytest.raises(CardPaymentUnavailable) as exc:
        checkout_submit(employee=employee)
    assert "余额" in exc.value.message and "银行卡支付" in exc.value.message
    assert not Order.objects.exists()
    assert allocation_balance(employee=employee, year=preview and allocation_year().year) == Decimal("700.00")
    assert BatchStock.objects.get(batch__sku=product.sku).reserved == 0


def test_every_shortfall_is_listed_in_one_conflict_naming_the_product_and_what_is_left(employee, no_provider):
    chestnut = ProductFactory(name="镇安板栗礼盒", price=Decimal("10.00"))
    tea = ProductFactory(name="特级绿茶", price=Decimal("10.00"))
    stock_batch(chestnut, 2)
    cart_item_set(employee=employee, product=chestnut, quantity=5)
    cart_item_set(employee=employee, product=tea, quantity=1)

    with pytest.raises(InsufficientStock) as exc:
        checkout_submit(employee=employee)

    assert exc.value.status == 409
    assert len(exc.value.problems) == 2
    assert "镇安板栗礼盒" in exc.value.problems[0] and "2" in exc.value.problems[0]
    assert "特级绿茶" in exc.value.problems[1]
    assert not Order.objects.exists()


def test_a_second_checkout_of_the_same_cart_finds_it_empty(employee, no_provider):
    product = ProductFactory()
    stock_batch(product, 10)
    cart_item_set(employee=employee, product=product, quantity=1)
    checkout_submit(employee=employee)

    with pytest.raises(EmptyCart) as exc:
        checkout_submit(employee=employee)
    assert "购物车" in exc.value.message
    assert Order.objects.count() == 1


def test_checkout_prices_from_the_product_not_from_what_the_cart_was_filled_at(employee, no_provider):
    product = ProductFactory(price=Decimal("100.00"))
    stock_batch(product, 10)
    cart_item_set(employee=employee, product=product, quantity=2)
    product.price = Decimal("90.00")
    product.save()

    order = checkout_submit(employee=employee).order

    assert order.total == Decimal("180.00")
    assert order.lines.get().unit_price == Decimal("90.00")


def test_a_provider_failure_releases_stock_and_returns_the_allocation(employee, monkeypatch):
    use_provider(monkeypatch, FakeProvider(fail=True))
    product = ProductFactory(price=Decimal("800.00"))
    stock_batch(product, 10)
    cart_item_set(employee=employee, product=product, quantity=1)

    with pytest.raises(PaymentProviderError):
        checkout_submit(employee=employee)

    order = Order.objects.get()
    assert order.status == Order.Status.CANCELLED
    assert allocation_balance(employee=employee, year=order.year) == Decimal("700.00")
    assert BatchStock.objects.get(batch__sku=product.sku).reserved == 0
    kinds = list(AllocationEntry.objects.filter(employee=employee).values_list("kind", flat=True))
    assert kinds == ["grant", "spend", "refund"]


@pytest.mark.django_db(transaction=True)
def test_the_provider_is_called_only_after_the_checkout_transaction_committed(monkeypatch):
    from django.db import transaction

    seen = {}

    class WatchingProvider(FakeProvider):
        def create_checkout(self, **kwargs):
            seen["in_transaction"] = transaction.get_connection().in_atomic_block
            seen["order_committed"] = Order.objects.filter(number=kwargs["order"].number).exists()
            return super().create_checkout(**kwargs)

    use_provider(monkeypatch, WatchingProvider())
    setting = allocation_year()
    employee = EmployeeFactory()
    allocation_grant(employee=employee, year=setting.year)
    product = ProductFactory(price=Decimal("800.00"))
    stock_batch(product, 2)
    cart_item_set(employee=employee, product=product, quantity=1)

    result = checkout_submit(employee=employee)

    assert seen == {"in_transaction": False, "order_committed": True}
    assert result.payment_url and Payment.objects.get(order=result.order).session_id == f"cs_fake_{result.order.number}"


def _checkout_statements(employee, product, batches: int) -> int:
    from django.test.utils import CaptureQueriesContext

    for n in range(batches):
        stock_batch(product, 2, days_ago=30 - n)
    cart_item_set(employee=employee, product=product, quantity=2 * batches)
    with CaptureQueriesContext(connection) as ctx:
        checkout_submit(employee=employee)
    return len([q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]])


def test_checkout_statements_do_not_grow_with_the_batches_it_takes_from(employee, no_provider):
    one = _checkout_statements(employee, ProductFactory(price=Decimal("5.00")), batches=1)
    four = _checkout_statements(employee, ProductFactory(price=Decimal("5.00")), batches=4)
    assert one == four
    assert four <= 16  # set-based: one locking read, one UPDATE and one movement INSERT for every row


def test_an_allocation_only_checkout_runs_a_fixed_short_list_of_statements(employee, no_provider):
    # the year's setting; the cart row locked, its items; the stock rows locked; the employee row
    # locked (PostgreSQL: SQLite locks the whole database instead), the balance; then the writes:
    # on PostgreSQL one statement (order, lines, the lines' batches, the event, the ledger entry,
    # the stock counters and movements, the cart emptied), elsewhere one per table
    expected = 7 if connection.vendor == "postgresql" else 13
    assert _checkout_statements(employee, ProductFactory(price=Decimal("5.00")), batches=3) == expected


def test_one_statement_checkout_writes_what_the_orm_path_writes(employee, no_provider):
    product, other = ProductFactory(price=Decimal("5.00")), ProductFactory(price=Decimal("7.50"))
    older, newer, third = stock_batch(product, 2, days_ago=20), stock_batch(product, 5, days_ago=2), stock_batch(other, 4)
    cart_item_set(employee=employee, product=product, quantity=3)
    cart_item_set(employee=employee, product=other, quantity=1)

    order = checkout_submit(employee=employee).order

    # the answer's order and lines carry their ids without being read back
    assert order.pk and sorted((line.pk, line.product_id) for line in order.lines.all()) == sorted(
        order.lines.model.objects.filter(order_id=order.pk).values_list("pk", "product_id")
    )
    order.refresh_from_db()
    assert (order.status, order.total, order.allocation_amount, order.card_amount) == ("paid", Decimal("22.50"), Decimal("22.50"), 0)
    lines = {line.product_id: line for line in order.lines.all()}
    assert {p: (line.quantity, line.line_total) for p, line in lines.items()} == {
        product.pk: (3, Decimal("15.00")), other.pk: (1, Decimal("7.50"))
    }
    assert sorted(OrderLineBatch.objects.filter(line__order=order).values_list("line__product_id", "batch_id", "units")) == sorted([
        (product.pk, older.pk, 2), (product.pk, newer.pk, 1), (other.pk, third.pk, 1)
    ])
    assert list(OrderEvent.objects.filter(order=order).values_list("from_status", "to_status")) == [("", "paid")]
    entry = AllocationEntry.objects.get(order_number=order.number)
    assert (entry.kind, entry.amount, entry.balance_after) == ("spend", Decimal("-22.50"), Decimal("677.50"))
    assert allocation_balance(employee=employee, year=order.year) == Decimal("677.50")
    assert sorted((s.batch_id, s.quantity, s.reserved) for s in BatchStock.objects.filter(batch__in=[older, newer, third])) == sorted([
        (older.pk, 0, 0), (newer.pk, 4, 0), (third.pk, 3, 0)
    ])
    assert BatchMovement.objects.filter(reference_code=order.number).count() == 6
    assert cart_get(employee=employee).is_empty
    assert not Payment.objects.filter(order=order).exists()


def test_set_based_reservation_appends_a_reserve_and_a_sell_movement_per_batch(employee, no_provider):
    product = ProductFactory(price=Decimal("5.00"))
    older, newer = stock_batch(product, 2, days_ago=20), stock_batch(product, 5, days_ago=2)
    cart_item_set(employee=employee, product=product, quantity=4)
    order = checkout_submit(employee=employee).order
    moves = sorted(BatchMovement.objects.filter(reference_code=order.number).values_list("batch_id", "kind", "quantity_delta", "reserved_delta"))
    assert moves == sorted([
        (older.pk, "reserve", 0, 2), (older.pk, "sell", -2, -2), (newer.pk, "reserve", 0, 2), (newer.pk, "sell", -2, -2),
    ])
    assert [(s.quantity, s.reserved) for s in BatchStock.objects.filter(batch__in=[older, newer]).order_by("batch__best_before")] == [(0, 0), (3, 0)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_carts_of_one_shape_share_one_prepared_write_whatever_their_products(employee, no_provider):
    """The order's write names no product or batch in its text: carts of the same shape (lines,
    batches, payment) reuse one prepared statement instead of planning a new text per product."""
    def prepared_writes() -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements "
                           "WHERE statement LIKE 'WITH o AS (INSERT INTO%%'")
            return dict(cursor.fetchall())

    for price in ("5.00", "6.00", "7.00"):
        product = ProductFactory(price=Decimal(price))
        stock_batch(product, 3)
        cart_item_set(employee=employee, product=product, quantity=1)
        checkout_submit(employee=employee)
    writes = prepared_writes()
    assert list(writes.values()) == [3]
    assert "product_id = $" in next(iter(writes))
