"""History is never rewritten: an employee belongs to an employer over date ranges, a move closes
one range and opens the next, and every issued statement (rows, HTML, Excel) stays identical."""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from openpyxl import Workbook

from core import roles
from marketplace.models import MEMBERSHIP_EPOCH, Employee, Membership, Order, OrderLine
from marketplace.selectors import employee_progress, employer_progress, membership_at
from marketplace.services.allocation import allocation_grant
from marketplace.services.cart import cart_item_set
from marketplace.services.checkout import checkout_submit
from marketplace.services.employees import MembershipConflict, MembershipError, employee_move, memberships_open_missing
from marketplace.services.orders import order_refund, order_transition
from marketplace.statements import StatementMonth, employer_statement, statement_xlsx, statements_for_month
from tests.households.factories import UserFactory
from tests.logistics.factories import SupermarketFactory, staff_at
from tests.marketplace.factories import EmployeeFactory, EmployerFactory, ProductFactory, allocation_year, stock_batch

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year - 1  # a whole past year: every month of it is closed


@pytest.fixture
def at(monkeypatch):
    def at(moment: datetime.datetime):
        aware = timezone.make_aware(moment)
        monkeypatch.setattr(timezone, "now", lambda: aware)
        return aware

    return at


@pytest.fixture
def shop():
    return SupermarketFactory()


def _employee(employer, **fields):
    allocation_year(YEAR)
    employee = EmployeeFactory(employer=employer, **fields)
    allocation_grant(employee=employee, year=YEAR)
    return employee


def _buy(employee, product, quantity):
    cart_item_set(employee=employee, product=product, quantity=quantity)
    return checkout_submit(employee=employee, fulfilment="pickup").order


def _fulfil(order, author):
    for status in (Order.Status.PICKING, Order.Status.READY_FOR_PICKUP, Order.Status.COMPLETED):
        order_transition(order=order, to=status, actor=author)


def _rows(statement):
    return [(r.employee_id, r.staff_number, r.name, r.orders, r.spent, r.refunded) for r in statement.rows]


def _xlsx_parts(content) -> dict[str, bytes]:
    """Every part of the workbook, with the generation time (docProps/core.xml) normalised."""
    if not isinstance(content, bytes):
        assert content.status_code == 200, (content.status_code, content.content[:300])
        content = content.content
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    parts["docProps/core.xml"] = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\1T", parts["docProps/core.xml"])
    return parts


def _html(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


def test_moving_an_employee_leaves_every_issued_statement_identical(client, shop, at):
    at(datetime.datetime(YEAR, 3, 10, 9, 0))
    staff = staff_at(shop, roles.SUPERMARKET_STAFF)
    product = ProductFactory(price=Decimal("37.00"))
    stock_batch(product, 200, facility=shop)
    edu, hos = EmployerFactory(code="EDU", name="教育局"), EmployerFactory(code="HOS", name="县医院")
    mover, stayer = _employee(edu, name="王强"), _employee(edu)
    march = _buy(mover, product, 18)  # ¥666
    _buy(stayer, product, 1)
    _fulfil(march, staff)
    at(datetime.datetime(YEAR, 3, 20, 9, 0))
    order_refund(order=march, lines={OrderLine.objects.get(order=march).pk: 2}, reason="破损", actor=staff)  # ¥74 back
    at(datetime.datetime(YEAR, 4, 5, 9, 0))
    _buy(mover, product, 1)

    months = [StatementMonth(YEAR, 3), StatementMonth(YEAR, 4)]
    clerk = staff

    def issued():
        client.force_login(clerk)  # sessions are dated by the (moved) clock
        out = {}
        for month in months:
            out[("summary", month)] = [(t.employer.pk, t.employees, t.orders, t.spent, t.refunded) for t in statements_for_month(month=month)]
            out[("all.xlsx", month)] = _xlsx_parts(statement_xlsx(month=month))
            out[("all.html", month)] = _html(client.get("/staff/statements/", {"month": str(month)}))
            for employer in (edu, hos):
                out[(employer.code, month)] = _rows(employer_statement(employer=employer, month=month))
                out[(employer.code + ".xlsx", month)] = _xlsx_parts(
                    client.get("/staff/statements/export/", {"month": str(month), "employer": employer.pk})
                )
                out[(employer.code + ".html", month)] = _html(
                    client.get("/staff/statements/", {"month": str(month), "employer": employer.pk})
                )
        return out

    before = issued()
    assert employer_statement(employer=edu, month=months[0]).owed == Decimal("629.00")  # 666 + 37 − 74

    at(datetime.datetime(YEAR, 4, 20, 9, 0))
    employee_move(employee=mover, employer=hos, on=datetime.date(YEAR, 4, 20), author=staff, staff_number="H-7")

    assert issued() == before
    assert mover.pk not in [r.employee_id for r in employer_statement(employer=hos, month=months[1]).rows]

    # What happens after the move is the new employer's; a refund of an order made before it is
    # the old employer's (an order belongs to the employer of its day).
    at(datetime.datetime(YEAR, 4, 25, 9, 0))
    _buy(mover, product, 1)
    order_refund(order=march, lines={OrderLine.objects.get(order=march).pk: 1}, reason="少发", actor=staff)
    hos_april = {r.employee_id: r for r in employer_statement(employer=hos, month=months[1]).rows}
    assert (hos_april[mover.pk].staff_number, hos_april[mover.pk].spent) == ("H-7", Decimal("37.00"))
    edu_april = {r.employee_id: r for r in employer_statement(employer=edu, month=months[1]).rows}
    assert (edu_april[mover.pk].spent, edu_april[mover.pk].refunded) == (Decimal("37.00"), Decimal("37.00"))
    assert edu_april[mover.pk].staff_number == before[("EDU", months[1])][0][1]  # the number of its time
    assert _rows(employer_statement(employer=edu, month=months[0])) == before[("EDU", months[0])]


def test_a_move_closes_one_range_opens_the_next_and_the_current_employer_follows(at):
    at(datetime.datetime(YEAR, 6, 1, 9, 0))
    a, b = EmployerFactory(), EmployerFactory()
    employee = EmployeeFactory(employer=a)
    assert list(employee.memberships.values_list("employer_id", "valid_from", "valid_to")) == [(a.pk, MEMBERSHIP_EPOCH, None)]

    new = employee_move(employee=employee, employer=b, on=datetime.date(YEAR, 5, 15))

    assert list(employee.memberships.order_by("valid_from").values_list("employer_id", "valid_from", "valid_to")) == [
        (a.pk, MEMBERSHIP_EPOCH, datetime.date(YEAR, 5, 15)), (b.pk, datetime.date(YEAR, 5, 15), None),
    ]
    assert new.employer == b and Employee.objects.get(pk=employee.pk).employer == b == employee.employer
    assert membership_at(employee=employee, day=datetime.date(YEAR, 5, 14)).employer == a
    assert membership_at(employee=employee, day=datetime.date(YEAR, 5, 15)).employer == b


def test_a_move_refuses_to_reach_back_over_recorded_spending_and_writes_nothing(shop, at):
    at(datetime.datetime(YEAR, 7, 10, 15, 0))
    product = ProductFactory(price=Decimal("10.00"))
    stock_batch(product, 10, facility=shop)
    a, b = EmployerFactory(), EmployerFactory()
    employee = _employee(a)
    _buy(employee, product, 1)
    for day in (datetime.date(YEAR, 7, 10), datetime.date(YEAR, 7, 1)):
        with pytest.raises(MembershipConflict) as refused:
            employee_move(employee=employee, employer=b, on=day)
        assert f"{YEAR}-07-10" in refused.value.message and "调动须从该日之后生效" in refused.value.message
    with pytest.raises(MembershipError):
        employee_move(employee=employee, employer=b, on=datetime.date(YEAR, 7, 11))  # tomorrow: not yet
    with pytest.raises(MembershipError):
        employee_move(employee=employee, employer=a)  # where it already is
    assert Membership.objects.filter(employee=employee).count() == 1
    assert Employee.objects.get(pk=employee.pk).employer == a


def test_a_staff_number_taken_at_the_new_employer_is_refused(at):
    at(datetime.datetime(YEAR, 8, 1, 9, 0))
    a, b = EmployerFactory(), EmployerFactory()
    employee = EmployeeFactory(employer=a, staff_number="0042")
    EmployeeFactory(employer=b, staff_number="0042")
    with pytest.raises(MembershipConflict):
        employee_move(employee=employee, employer=b)
    assert employee_move(employee=employee, employer=b, staff_number="0043").staff_number == "0043"


def test_the_database_refuses_two_open_memberships_of_one_employee():
    employee = EmployeeFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(employee=employee, employer=EmployerFactory(), staff_number="x", valid_from=datetime.date(2020, 1, 1))


def test_postgresql_refuses_overlapping_closed_ranges(on_postgres):
    employee = EmployeeFactory()
    Membership.objects.filter(employee=employee).update(valid_to=datetime.date(2020, 6, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(employee=employee, employer=EmployerFactory(), staff_number="x",
                                  valid_from=datetime.date(2020, 3, 1), valid_to=datetime.date(2020, 4, 1))


def test_allocation_progress_counts_each_order_at_the_employer_of_its_time(shop, at):
    at(datetime.datetime(YEAR, 2, 1, 9, 0))
    product = ProductFactory(price=Decimal("50.00"))
    stock_batch(product, 10, facility=shop)
    a, b = EmployerFactory(name="甲单位"), EmployerFactory(name="乙单位")
    employee = _employee(a)
    _buy(employee, product, 2)
    at(datetime.datetime(YEAR, 5, 1, 9, 0))
    employee_move(employee=employee, employer=b)
    _buy(employee, product, 1)

    county = {e.name: e for e in employer_progress(year=YEAR)}
    assert (county["甲单位"].granted, county["甲单位"].spent) == (Decimal("700.00"), Decimal("100.00"))
    assert (county["乙单位"].granted, county["乙单位"].spent) == (Decimal("0.00"), Decimal("50.00"))
    assert county["甲单位"].employee_count == county["乙单位"].employee_count == 1
    at_a = {e.pk: e for e in employee_progress(year=YEAR, employer=a)}
    assert at_a[employee.pk].spent == Decimal("100.00")
    assert employee_progress(year=YEAR, employer=b)[0].spent == Decimal("50.00")


def test_employees_written_in_bulk_get_their_membership():
    employer = EmployerFactory()
    user = UserFactory()
    Employee.objects.bulk_create([Employee(user=user, employer=employer, staff_number="B1", name="批量")])
    assert memberships_open_missing() == 1
    assert Membership.objects.get(employee__user=user).employer == employer
    assert memberships_open_missing() == 0


def test_the_employee_import_opens_a_membership_for_each_new_employee():
    from marketplace.services.employees_import import employees_import_xlsx

    employer = EmployerFactory(code="IMP")
    wb = Workbook()
    wb.active.append(["工号", "姓名"])
    wb.active.append(["0001", "李四"])
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    buffer.name = "staff.xlsx"
    result = employees_import_xlsx(employer=employer, file=buffer)
    assert not result.problems
    membership = Membership.objects.get(employee__staff_number="0001", employee__employer=employer)
    assert (membership.employer, membership.valid_to, membership.staff_number) == (employer, None, "0001")


def test_changing_the_employer_in_the_admin_is_a_move(client, at):
    at(datetime.datetime(YEAR, 9, 1, 9, 0))
    a, b = EmployerFactory(), EmployerFactory()
    employee = EmployeeFactory(employer=a)
    client.force_login(UserFactory(role=roles.COUNTY_OFFICE, is_superuser=True, is_staff=True))
    url = f"/admin/snippets/marketplace/employee/edit/{employee.pk}/"
    form = {"user": employee.user_id, "employer": b.pk, "staff_number": employee.staff_number, "name": "改名", "phone": "",
            "active": "on"}
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    ranges = list(employee.memberships.order_by("valid_from").values_list("employer_id", "valid_to"))
    assert ranges == [(a.pk, datetime.date(YEAR, 9, 1)), (b.pk, None)]
    assert Employee.objects.get(pk=employee.pk).name == "改名"
