"""The trace's compiled statements skip the converters whose work changes nothing (a column kept
only to sort by; on PostgreSQL, casts of values psycopg already returns as int or Decimal) and
keep every converter that does change a value: a ``Value`` sent as a Python value of another
type than its field's still comes back as that field's type."""

from decimal import Decimal

import pytest
from django.db.models import DecimalField, IntegerField, Sum, Value
from django.db.models.functions import Cast, TruncSecond

from households.models import Household
from logistics.selectors.trace_rows import Compiled
from tests.households.factories import HouseholdFactory

pytestmark = pytest.mark.django_db

_TOTAL = DecimalField(max_digits=20, decimal_places=3)


def _statement():
    return Compiled(lambda pk: Household.objects.filter(pk=pk).values(
        "number",
        e_sec=TruncSecond("created_at"),
        whole=Value(7, output_field=IntegerField()),
        zero_as_decimal=Value(0, output_field=_TOTAL),
        computed=Cast(Value(2), output_field=_TOTAL),
        one=Cast(Value(1), output_field=IntegerField()),
    ))


def test_values_keep_their_fields_types_and_sort_only_columns_are_left_as_read():
    household = HouseholdFactory()
    (row,) = _statement()(household.pk)
    assert row["number"] == household.number
    assert row["whole"] == 7 and type(row["whole"]) is int
    assert row["zero_as_decimal"] == 0 and type(row["zero_as_decimal"]) is Decimal
    assert row["computed"] == 2 and type(row["computed"]) is Decimal
    assert row["one"] == 1 and type(row["one"]) is int
    assert row["e_sec"] is not None  # read, never converted: only sorted by


def test_an_aggregate_cast_to_decimal_is_a_decimal():
    HouseholdFactory.create_batch(2)
    statement = Compiled(lambda marker: Household.objects.filter(pk__gt=marker).values("village__township_id").annotate(
        n=Cast(Sum(Value(1)), output_field=_TOTAL)).values("n"))
    rows = statement(0)
    assert rows and all(type(r["n"]) is Decimal for r in rows)
    assert sum(r["n"] for r in rows) == 2
