import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from core.ledger import AppendOnlyError
from marketplace.models import AllocationEntry, AllocationYear
from marketplace.selectors import allocation_summary, employee_progress, employer_progress
from marketplace.services import allocation as allocation_services
from marketplace.services.allocation import (
    AllocationExhausted,
    AllocationWindowClosed,
    allocation_balance,
    allocation_expire_year,
    allocation_grant,
    allocation_grant_year,
    allocation_refund,
    allocation_spend,
    allocation_year_get,
)
from marketplace.tasks import BEAT_SCHEDULE, allocations_grant_year_task
from tests.marketplace.factories import EmployeeFactory, EmployerFactory, allocation_year

pytestmark = pytest.mark.django_db


def test_a_year_without_a_setting_gets_700_and_the_calendar_year():
    setting = allocation_year_get(year=2031)
    assert (setting.amount, setting.opens_on, setting.closes_on) == (Decimal("700.00"), datetime.date(2031, 1, 1), datetime.date(2031, 12, 31))


def test_granting_a_year_twice_grants_nothing_the_second_time():
    setting = allocation_year()
    employees = [EmployeeFactory() for _ in range(3)]
    EmployeeFactory(active=False)

    assert allocation_grant_year(year=setting.year) == 3
    assert allocations_grant_year_task.delay(setting.year).get() == 0
    assert allocation_grant(employee=employees[0], year=setting.year) is None
    assert AllocationEntry.objects.filter(kind="grant").count() == 3
    assert {allocation_balance(employee=e, year=setting.year) for e in employees} == {Decimal("700.00")}


def test_the_grant_task_is_scheduled_for_the_first_of_january():
    schedule = BEAT_SCHEDULE["marketplace-allocations-grant-year"]["schedule"]
    assert schedule.month_of_year == {1} and schedule.day_of_month == {1}
    assert BEAT_SCHEDULE["marketplace-orders-release-unpaid"]["task"] == "marketplace.tasks.orders_release_unpaid_task"
    from marketplace.payments.tasks import BEAT_SCHEDULE as payments_schedule

    assert set(payments_schedule) <= set(BEAT_SCHEDULE)  # merged, not shadowed by the star import


def test_spending_more_than_the_balance_is_refused_and_nothing_is_written():
    setting = allocation_year()
    employee = EmployeeFactory()
    allocation_grant(employee=employee, year=setting.year)
    allocation_spend(employee=employee, year=setting.year, amount=Decimal("400.00"), order_number="A1")

    with pytest.raises(AllocationExhausted) as exc:
        allocation_spend(employee=employee, year=setting.year, amount=Decimal("400.00"), order_number="A2")

    assert "300.00" in exc.value.message and "余额" in exc.value.message
    assert allocation_balance(employee=employee, year=setting.year) == Decimal("300.00")


def test_the_database_refuses_a_negative_balance_even_if_the_service_is_bypassed():
    employee = EmployeeFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        AllocationEntry.objects.create(employee=employee, year=2030, kind="spend", amount=Decimal("-1.00"), balance_after=Decimal("-1.00"))


def test_ledger_entries_cannot_be_edited_or_deleted():
    setting = allocation_year()
    entry = allocation_grant(employee=EmployeeFactory(), year=setting.year)
    entry.amount = Decimal("7000.00")
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AllocationEntry.objects.filter(pk=entry.pk).update(amount=Decimal("1.00"))


def test_a_refund_is_refused_once_the_year_has_closed(monkeypatch):
    setting = allocation_year(2020)
    employee = EmployeeFactory()
    monkeypatch.setattr(allocation_services, "allocation_today", lambda: datetime.date(2020, 6, 1))
    allocation_grant(employee=employee, year=2020)
    allocation_spend(employee=employee, year=2020, amount=Decimal("100.00"), order_number="B1")
    monkeypatch.setattr(allocation_services, "allocation_today", lambda: datetime.date(2021, 1, 2))

    with pytest.raises(AllocationWindowClosed) as exc:
        allocation_refund(employee=employee, year=setting.year, amount=Decimal("100.00"), order_number="B1", key="B1")
    assert "2020" in exc.value.message and "截止" in exc.value.message


def test_a_refund_with_the_same_key_is_written_once():
    setting = allocation_year()
    employee = EmployeeFactory()
    allocation_grant(employee=employee, year=setting.year)
    allocation_spend(employee=employee, year=setting.year, amount=Decimal("100.00"), order_number="C1")
    first = allocation_refund(employee=employee, year=setting.year, amount=Decimal("100.00"), order_number="C1", key="C1")
    again = allocation_refund(employee=employee, year=setting.year, amount=Decimal("100.00"), order_number="C1", key="C1")
    assert first.pk == again.pk
    assert allocation_balance(employee=employee, year=setting.year) == Decimal("700.00")


@pytest.mark.parametrize("unspent", [AllocationYear.Unspent.EXPIRE, AllocationYear.Unspent.CARRY_OVER])
def test_closing_a_year_expires_or_carries_over_what_is_left_once(monkeypatch, unspent):
    allocation_year(2020, unspent=unspent)
    employee = EmployeeFactory()
    monkeypatch.setattr(allocation_services, "allocation_today", lambda: datetime.date(2020, 3, 1))
    allocation_grant(employee=employee, year=2020)
    allocation_spend(employee=employee, year=2020, amount=Decimal("250.00"), order_number="D1")
    with pytest.raises(allocation_services.AllocationError):
        allocation_expire_year(year=2020)
    monkeypatch.setattr(allocation_services, "allocation_today", lambda: datetime.date(2021, 1, 1))

    assert allocation_expire_year(year=2020) == 1
    assert allocation_expire_year(year=2020) == 0

    old = allocation_summary(employee=employee, year=2020)
    assert old.balance == Decimal("0.00")
    assert old.granted - old.spent + old.refunded - old.expired - old.carried_out == old.balance
    new_balance = allocation_balance(employee=employee, year=2021)
    assert new_balance == (Decimal("450.00") if unspent == AllocationYear.Unspent.CARRY_OVER else Decimal("0.00"))


def test_employers_see_their_staff_progress_and_the_county_sees_it_per_employer():
    setting = allocation_year()
    school, hospital = EmployerFactory(name="镇安中学"), EmployerFactory(name="镇安县医院")
    a, b = EmployeeFactory(employer=school), EmployeeFactory(employer=school)
    c = EmployeeFactory(employer=hospital)
    for e in (a, b, c):
        allocation_grant(employee=e, year=setting.year)
    allocation_spend(employee=a, year=setting.year, amount=Decimal("200.00"), order_number="E1")

    staff = {e.pk: e for e in employee_progress(year=setting.year, employer=school)}
    assert set(staff) == {a.pk, b.pk}
    assert (staff[a.pk].granted, staff[a.pk].spent, staff[a.pk].balance) == (Decimal("700.00"), Decimal("200.00"), Decimal("500.00"))

    county = {e.name: e for e in employer_progress(year=setting.year)}
    assert county["镇安中学"].employee_count == 2
    assert (county["镇安中学"].granted, county["镇安中学"].spent) == (Decimal("1400.00"), Decimal("200.00"))
    assert county["镇安县医院"].balance == Decimal("700.00")
    assert [e.name for e in employer_progress(year=setting.year, filters={"name": "医院"})] == ["镇安县医院"]
