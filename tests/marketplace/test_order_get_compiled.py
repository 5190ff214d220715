"""An employee's own order (the confirmation page after each checkout, the API) is read by
statements compiled once; it must be what the ORM's queryset gives: the same order, employee,
employer and payment, lines with their products and events in order, none of it read again, and
nobody else's order."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from marketplace import selectors
from marketplace.models import Order, OrderEvent
from marketplace.services.allocation import allocation_grant
from tests.marketplace.factories import EmployeeFactory, ProductFactory, allocation_year, stock_batch

pytestmark = pytest.mark.django_db


def _granted():
    employee = EmployeeFactory()
    allocation_grant(employee=employee, year=allocation_year().year)
    return employee


def _order_of(employee, n_lines=2):
    from marketplace.services.cart import cart_item_add
    from marketplace.services.checkout import checkout_submit

    for _ in range(n_lines):
        product = ProductFactory(price=Decimal("10.00"))
        stock_batch(product, 10)
        cart_item_add(employee=employee, product=product, quantity=2)
    return checkout_submit(employee=employee).order


def _picture(order):
    try:
        payment = order.payment.pk
    except Exception:
        payment = None
    return {
        "order": (order.pk, order.number, order.status, order.total),
        "employee": (order.employee.pk, order.employee.name, order.employee.employer.code),
        "payment": payment,
        "lines": [(line.pk, line.quantity, line.unit_price, line.product.pk, line.product.name, line.order is order)
                  for line in order.lines.all()],
        "events": [(e.pk, e.to_status, e.order is order) for e in order.events.all()],
    }


def test_an_employees_own_order_is_the_orms_with_no_query_more():
    employee, other = _granted(), _granted()
    order = _order_of(employee)
    _order_of(other)
    OrderEvent.objects.create(order=order, from_status=order.status, to_status=order.status, note="a second event")
    expected = _picture(Order.objects.select_related("employee__employer").get(pk=order.pk))
    got = selectors.order_get(number=order.number, employee=employee)
    with CaptureQueriesContext(connection) as ctx:
        picture = _picture(got)
    assert picture == expected
    assert len(picture["lines"]) == 2 and len(picture["events"]) >= 2
    assert [q["sql"] for q in ctx.captured_queries if "payment" not in q["sql"]] == []  # lines and events came with it
    again = selectors.order_get(number=order.number, employee=employee.pk)
    assert _picture(again) == expected


def test_nobody_elses_order_and_no_order_that_does_not_exist():
    employee, other = _granted(), _granted()
    order = _order_of(employee, n_lines=1)
    with pytest.raises(Order.DoesNotExist):
        selectors.order_get(number=order.number, employee=other)
    with pytest.raises(Order.DoesNotExist):
        selectors.order_get(number="NO-SUCH-ORDER", employee=employee)
    assert selectors.order_get(number=order.number).pk == order.pk  # staff: any order by number
