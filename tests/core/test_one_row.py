"""core.one_row: one row by a unique key in a statement compiled once, equal to the ORM's row."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.one_row import one_row_statement
from marketplace.models import AllocationYear, Employee
from marketplace.services.allocation import _allocation_year_read

pytestmark = pytest.mark.django_db


def test_a_row_by_a_unique_field_equals_the_orms_with_its_types():
    AllocationYear.objects.create(year=2031, amount=Decimal("688.50"), opens_on=datetime.date(2031, 3, 1),
                                  closes_on=datetime.date(2031, 11, 30))
    expected = AllocationYear.objects.get(year=2031)
    with CaptureQueriesContext(connection) as ctx:
        got = one_row_statement(AllocationYear, (), "default", by="year").get(2031)
    assert len(ctx.captured_queries) == 1
    fields = [f.attname for f in AllocationYear._meta.concrete_fields]
    assert {f: getattr(got, f) for f in fields} == {f: getattr(expected, f) for f in fields}
    assert isinstance(got.amount, Decimal) and got.amount == Decimal("688.50")
    assert isinstance(got.opens_on, datetime.date) and got.opens_on == datetime.date(2031, 3, 1)


def test_no_row_is_none_and_the_allocation_year_is_then_created_with_defaults():
    assert one_row_statement(AllocationYear, (), "default", by="year").get(2032) is None
    setting = _allocation_year_read(2032)
    assert setting.pk and setting.amount == Decimal("700.00") and setting.closes_on == datetime.date(2032, 12, 31)
    assert _allocation_year_read(2032).pk == setting.pk


def test_a_key_that_may_name_many_rows_or_a_step_to_many_records_is_refused():
    with pytest.raises(ImproperlyConfigured):
        one_row_statement(Employee, (), "default", by="name")
    with pytest.raises(ImproperlyConfigured):
        one_row_statement(Employee, ("allocation_entries",), "default")
