"""django-filter filters whose values are read by ``core.parsing`` (through ``core.fields``).

Use these instead of django-filter's own for dates and numbers: a filter value a person typed or
a link carried (``?date=9999-12-31``, ``?price_min=1e25``, ``?year=③``) then makes the
FilterSet invalid with a message — the API answers 400, a page shows the message — instead of
overflowing a time-zone conversion or a numeric column.
"""

from __future__ import annotations

import django_filters
from django_filters.fields import DateRangeField

from .fields import DateInputField, DecimalInputField, IntegerInputField


class DateFilter(django_filters.DateFilter):
    field_class = DateInputField


class _CheckedDateRangeField(DateRangeField):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields = (DateInputField(required=False), DateInputField(required=False))


class DateFromToRangeFilter(django_filters.DateFromToRangeFilter):
    field_class = _CheckedDateRangeField


class MoneyFilter(django_filters.NumberFilter):
    """An amount in yuan: up to 10 digits before the point and 2 after, not negative."""

    field_class = DecimalInputField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", 0)
        super().__init__(*args, **kwargs)


class IntegerFilter(django_filters.NumberFilter):
    """A whole number (a year, a count): 0 .. 2**31-1 unless told otherwise."""

    field_class = IntegerInputField
