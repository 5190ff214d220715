"""Form fields that read their value through ``core.parsing``: one rule for every form.

A refused value becomes the field's error with the helper's message (in the user's language),
so the form is shown again with it and nothing is written.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from . import parsing


def _as_validation_error(exc: parsing.InvalidInput) -> ValidationError:
    return ValidationError(exc.message, code="invalid")


class DecimalInputField(forms.DecimalField):
    """A decimal that fits ``max_digits``/``decimal_places`` (both required: the column's)."""

    def __init__(self, *, max_digits: int, decimal_places: int, min_value=None, max_value=None, round_places: bool = False, **kwargs):
        self.round_places = round_places
        super().__init__(max_digits=max_digits, decimal_places=decimal_places, min_value=min_value, max_value=max_value, **kwargs)

    def to_python(self, value):
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        try:
            return parsing.parse_decimal(
                value, max_digits=self.max_digits, places=self.decimal_places, round_places=self.round_places, min_value=self.min_value, max_value=self.max_value
            )
        except parsing.InvalidInput as exc:
            raise _as_validation_error(exc) from None

    def validate(self, value):
        forms.Field.validate(self, value)  # the parsing above did what DecimalField.validate checks

    def run_validators(self, value):
        # min/max were checked while parsing (with our message); DecimalValidator would repeat it
        return None


class IntegerInputField(forms.IntegerField):
    """A whole number, by default 0 .. 2**31-1."""

    def __init__(self, *, min_value: int | None = 0, max_value: int | None = parsing.INT_MAX, **kwargs):
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_python(self, value):
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        try:
            return parsing.parse_int(value, min_value=self.min_value, max_value=self.max_value)
        except parsing.InvalidInput as exc:
            raise _as_validation_error(exc) from None

    def run_validators(self, value):
        return None


class DateInputField(forms.DateField):
    """``YYYY-MM-DD`` between 2000-01-01 and 2100-12-31."""

    def to_python(self, value):
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        try:
            return parsing.parse_date(value)
        except parsing.InvalidInput as exc:
            raise _as_validation_error(exc) from None


class TextInputField(forms.CharField):
    """Text without control characters; ``max_length`` is required."""

    def __init__(self, *, max_length: int, multiline: bool = False, **kwargs):
        self.multiline = multiline
        super().__init__(max_length=max_length, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        try:
            return parsing.clean_text(value, max_length=self.max_length, multiline=self.multiline)
        except parsing.InvalidInput as exc:
            raise _as_validation_error(exc) from None


def weight_field(**kwargs) -> DecimalInputField:
    """A weight as typed at a scale: kg or jin, 3 places, more than zero, fits numeric(10, 3)."""
    kwargs.setdefault("min_value", Decimal("0"))
    return DecimalInputField(max_digits=10, decimal_places=3, **kwargs)
