"""Employer statements: allocation spent per employee net of refunds, to the fen, per month."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from core import roles
from marketplace.models import Order, OrderLine
from marketplace.services.allocation import allocation_grant
from marketplace.services.cart import cart_item_set
from marketplace.services.checkout import checkout_submit
from marketplace.services.orders import order_refund, order_release_unpaid, order_transition
from marketplace.statements import StatementMonth, employer_statement, statement_xlsx, statements_for_month
from tests.households.factories import UserFactory
from tests.logistics.factories import SupermarketFactory, staff_at
from tests.marketplace.factories import (
    EmployeeFactory,
    EmployerFactory,
    FakeProvider,
    ProductFactory,
    allocation_year,
    stock_batch,
    use_provider,
)

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year


@pytest.fixture
def shop():
    return SupermarketFactory()


@pytest.fixture
def at(monkeypatch):
    """Run the services as if it were ``moment`` (local time)."""

    def at(moment: datetime.datetime):
        aware = timezone.make_aware(moment)
        monkeypatch.setattr(timezone, "now", lambda: aware)
        return aware

    return at


def _employee(employer):
    allocation_year(YEAR)
    employee = EmployeeFactory(employer=employer)
    allocation_grant(employee=employee, year=YEAR)
    return employee


def _buy(employee, *items, fulfilment="pickup"):
    for product, quantity in items:
        cart_item_set(employee=employee, product=product, quantity=quantity)
    return checkout_submit(employee=employee, fulfilment=fulfilment).order


def _fulfil(order, author):
    for status in (Order.Status.PICKING, Order.Status.READY_FOR_PICKUP, Order.Status.COMPLETED):
        order_transition(order=order, to=status, actor=author)


def test_a_statement_adds_up_spending_net_of_refunds_to_the_fen(shop, at):
    at(datetime.datetime(YEAR, 3, 10, 9, 0))
    staff = staff_at(shop, roles.SUPERMARKET_STAFF)
    odd = ProductFactory(price=Decimal("33.33"))
    tea = ProductFactory(price=Decimal("120.01"))
    stock_batch(odd, 100, facility=shop)
    stock_batch(tea, 100, facility=shop)
    edu = EmployerFactory(code="EDU")
    other = EmployerFactory(code="HOS")
    a, b, c = _employee(edu), _employee(edu), _employee(other)

    first = _buy(a, (odd, 3))  # 99.99
    _buy(a, (tea, 1))  # 120.01
    returned = _buy(b, (odd, 2), (tea, 2))  # 66.66 + 240.02 = 306.68
    _buy(c, (tea, 5))  # another employer's
    _fulfil(returned, staff)
    line = OrderLine.objects.get(order=returned, product=odd)
    order_refund(order=returned, lines={line.pk: 1}, reason="破损", actor=staff)  # 33.33 back

    statement = employer_statement(employer=edu, month=StatementMonth(YEAR, 3))

    rows = {r.employee_id: r for r in statement.rows}
    assert set(rows) == {a.pk, b.pk}
    assert (rows[a.pk].orders, rows[a.pk].spent, rows[a.pk].refunded, rows[a.pk].owed) == (2, Decimal("220.00"), Decimal("0.00"), Decimal("220.00"))
    assert (rows[b.pk].orders, rows[b.pk].spent, rows[b.pk].refunded, rows[b.pk].owed) == (1, Decimal("306.68"), Decimal("33.33"), Decimal("273.35"))
    assert statement.owed == Decimal("493.35")
    assert statement.spent - statement.refunded == statement.owed
    assert first.allocation_amount == Decimal("99.99")


def test_the_card_part_of_an_order_is_not_owed_by_the_employer(shop, at, monkeypatch):
    at(datetime.datetime(YEAR, 4, 2, 10, 0))
    use_provider(monkeypatch, FakeProvider())
    product = ProductFactory(price=Decimal("450.00"))
    stock_batch(product, 10, facility=shop)
    employer = EmployerFactory()
    employee = _employee(employer)
    order = _buy(employee, (product, 2))  # 900: 700 allocation + 200 card
    assert order.card_amount == Decimal("200.00")

    assert employer_statement(employer=employer, month=StatementMonth(YEAR, 4)).owed == Decimal("700.00")


def test_an_unpaid_card_order_that_was_released_nets_to_nothing(shop, at, monkeypatch):
    at(datetime.datetime(YEAR, 5, 2, 10, 0))
    use_provider(monkeypatch, FakeProvider())
    product = ProductFactory(price=Decimal("450.00"))
    stock_batch(product, 10, facility=shop)
    employer = EmployerFactory()
    order = _buy(_employee(employer), (product, 2))
    order_release_unpaid(order=order, reason="unpaid after 30 minutes")

    statement = employer_statement(employer=employer, month=StatementMonth(YEAR, 5))
    assert (statement.spent, statement.refunded, statement.owed) == (Decimal("700.00"), Decimal("700.00"), Decimal("0.00"))


def test_months_are_cut_at_local_midnight_and_a_refund_counts_in_its_own_month(shop, at):
    product = ProductFactory(price=Decimal("10.00"))
    stock_batch(product, 50, facility=shop)
    employer = EmployerFactory()
    staff = staff_at(shop, roles.SUPERMARKET_STAFF)
    at(datetime.datetime(YEAR, 6, 30, 23, 59, 59))
    employee = _employee(employer)
    june = _buy(employee, (product, 1))
    at(datetime.datetime(YEAR, 7, 1, 0, 0, 0))
    _buy(employee, (product, 2))
    _fulfil(june, staff)
    order_refund(order=june, lines=None, reason="退货", actor=staff)

    june_statement = employer_statement(employer=employer, month=StatementMonth(YEAR, 6))
    july_statement = employer_statement(employer=employer, month=StatementMonth(YEAR, 7))
    assert (june_statement.spent, june_statement.refunded) == (Decimal("10.00"), Decimal("0.00"))
    assert (july_statement.spent, july_statement.refunded, july_statement.owed) == (Decimal("20.00"), Decimal("10.00"), Decimal("10.00"))


def test_the_summary_lists_each_employer_with_what_it_owes(shop, at):
    at(datetime.datetime(YEAR, 8, 8, 8, 0))
    product = ProductFactory(price=Decimal("12.34"))
    stock_batch(product, 50, facility=shop)
    edu, hos = EmployerFactory(code="A-EDU"), EmployerFactory(code="B-HOS")
    _buy(_employee(edu), (product, 1))
    _buy(_employee(edu), (product, 2))
    _buy(_employee(hos), (product, 3))
    EmployerFactory(code="C-NONE")

    totals = statements_for_month(month=StatementMonth(YEAR, 8))

    assert [(t.employer.code, t.employees, t.orders, t.owed) for t in totals] == [
        ("A-EDU", 2, 2, Decimal("37.02")), ("B-HOS", 1, 1, Decimal("37.02"))]
    assert statements_for_month(month=StatementMonth(YEAR, 9)) == []


def test_the_excel_export_has_a_row_per_employee_and_the_total(shop, at):
    at(datetime.datetime(YEAR, 9, 9, 9, 0))
    product = ProductFactory(price=Decimal("0.01"))
    stock_batch(product, 50, facility=shop)
    employer = EmployerFactory(code="EXP")
    a, b = _employee(employer), _employee(employer)
    _buy(a, (product, 7))
    _buy(b, (product, 3))

    wb = load_workbook(io.BytesIO(statement_xlsx(month=StatementMonth(YEAR, 9), employer=employer)))
    rows = [r for r in wb.active.iter_rows(values_only=True) if any(v is not None for v in r)]

    body = rows[3:]
    assert body[0][:2] == (a.staff_number, a.name) and Decimal(str(body[0][5])) == Decimal("0.07")
    assert body[1][:2] == (b.staff_number, b.name) and Decimal(str(body[1][5])) == Decimal("0.03")
    assert body[-1][0] in ("合计", "Total") and Decimal(str(body[-1][5])) == Decimal("0.10")


def test_the_all_employers_export_has_a_summary_and_a_sheet_per_employer(shop, at):
    at(datetime.datetime(YEAR, 10, 1, 12, 0))
    product = ProductFactory(price=Decimal("5.00"))
    stock_batch(product, 50, facility=shop)
    for code, name in (("X1", "县教育局"), ("X2", "县医院")):
        _buy(_employee(EmployerFactory(code=code, name=name)), (product, 1))
    wb = load_workbook(io.BytesIO(statement_xlsx(month=StatementMonth(YEAR, 10))))
    assert wb.sheetnames[1:] == ["县教育局", "县医院"]  # sheets named as people call the employer


def test_staff_see_the_statement_page_and_download_it(client, shop, at):
    at(datetime.datetime(YEAR, 11, 3, 10, 0))
    product = ProductFactory(price=Decimal("25.50"))
    stock_batch(product, 50, facility=shop)
    employer = EmployerFactory(name="镇安县财政局")
    _buy(_employee(employer), (product, 2))
    client.force_login(staff_at(shop, roles.SUPERMARKET_STAFF))

    page = client.get("/staff/statements/", {"month": f"{YEAR}-11", "employer": employer.pk})
    assert page.status_code == 200
    assert page.context["statement"].owed == Decimal("51.00")
    assert "应付超市合计" in page.content.decode()
    summary = client.get("/staff/statements/", {"month": f"{YEAR}-11"})
    assert "镇安县财政局" in summary.content.decode()
    download = client.get("/staff/statements/export/", {"month": f"{YEAR}-11", "employer": employer.pk})
    assert download.status_code == 200
    assert download["Content-Type"].startswith("application/vnd.openxmlformats")
    load_workbook(io.BytesIO(download.content))


def test_an_employee_cannot_download_statements(client):
    client.force_login(UserFactory(role=roles.EMPLOYEE))
    assert client.get("/staff/statements/export/").status_code == 403


def test_a_month_parses_and_refuses_nonsense():
    assert StatementMonth.parse("2026-02") == StatementMonth(2026, 2)
    assert str(StatementMonth(2026, 2)) == "2026-02"
    assert StatementMonth(2026, 12).next() == StatementMonth(2027, 1)
    for bad in ("2026-13", "2026", "abc", ""):
        with pytest.raises(ValueError):
            StatementMonth.parse(bad)
