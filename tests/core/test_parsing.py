"""core.parsing: the one reader of numbers, dates, months and text typed by people."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.test import RequestFactory

from core import parsing
from core.fields import DateInputField, DecimalInputField, IntegerInputField, TextInputField
from core.parsing import InvalidInput


@pytest.fixture(autouse=True)
def _english():
    """Messages are matched in English here; the last test reads the Chinese ones."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.mark.parametrize("raw, expected", [
    ("12.5", Decimal("12.5")), (" 3 ", Decimal("3")), ("１２．５", Decimal("12.5")), ("٣", Decimal("3")),
    ("1,250.50", Decimal("1250.50")), ("1.50", Decimal("1.50")), (Decimal("2.000"), Decimal("2")), (7, Decimal("7")),
])
def test_decimals_in_any_script_of_decimal_digits_are_read(raw, expected):
    assert parsing.parse_decimal(raw, max_digits=10, places=2) == expected


@pytest.mark.parametrize("raw", [
    "1e25", "1E4", "NaN", "nan", "Infinity", "-inf", "③", "2⁰¹⁶", "²", "Ⅻ", "", " ", "abc", "1.2.3", "12345678901",
    "9" * 41, "0.001", "--1", float("nan"), Decimal("Infinity"),
])
def test_decimals_that_cannot_be_stored_exactly_are_refused(raw):
    with pytest.raises(InvalidInput):
        parsing.parse_decimal(raw, max_digits=10, places=2)


def test_a_decimal_may_carry_more_places_when_the_caller_rounds():
    assert parsing.parse_decimal("1.23456", max_digits=10, places=3, round_places=True) == Decimal("1.23456")
    with pytest.raises(InvalidInput, match="too large"):
        parsing.parse_decimal("10000000", max_digits=10, places=3, round_places=True)


def test_negative_numbers_are_refused_where_the_field_says_so():
    with pytest.raises(InvalidInput, match="negative"):
        parsing.parse_decimal("-0.01", max_digits=10, places=2, min_value=0)
    with pytest.raises(InvalidInput, match="negative"):
        parsing.parse_int("-1", min_value=0)


@pytest.mark.parametrize("raw", ["③", "2⁰¹⁶", "1.0", "1e3", str(2**63), str(2**31), "-" + str(2**63), "", "0x10", "9" * 50])
def test_integers_out_of_range_or_not_plain_digits_are_refused(raw):
    with pytest.raises(InvalidInput):
        parsing.parse_int(raw, min_value=-(2**31))


def test_full_width_integers_are_read():
    assert parsing.parse_int("１２") == 12
    assert parsing.parse_int(" 2016 ") == 2016


def test_the_message_names_the_character_refused():
    with pytest.raises(InvalidInput) as caught:
        parsing.parse_int("③", label="units")
    assert "③" in caught.value.message and caught.value.message.startswith("units")


@pytest.mark.parametrize("raw", ["0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01", "2026-02-30", "2026-13-01", "tomorrow",
                                 "20260101", "2⁰²⁶-01-01", ""])
def test_dates_outside_2000_to_2100_or_not_in_the_calendar_are_refused(raw):
    with pytest.raises(InvalidInput):
        parsing.parse_date(raw)


def test_dates_in_range_are_read_in_any_decimal_digits():
    assert parsing.parse_date("2026-12-02") == datetime.date(2026, 12, 2)
    assert parsing.parse_date("２０２６-１２-０２") == datetime.date(2026, 12, 2)
    assert parsing.parse_date("2100-12-31") == datetime.date(2100, 12, 31)


@pytest.mark.parametrize("raw", ["2101-01", "1999-12", "2026-00", "2026-13", "0001-01", "2⁰¹⁶-01", "2026"])
def test_months_outside_the_range_are_refused(raw):
    with pytest.raises(InvalidInput):
        parsing.parse_month(raw)


def test_the_last_month_of_the_range_is_read():
    assert parsing.parse_month("2100-12") == (2100, 12)


@pytest.mark.parametrize("raw", ["a\x00b", "\x00", "x\x1b[2J", "tab\tok\nnot"])
def test_text_with_nul_or_control_characters_is_refused(raw):
    with pytest.raises(InvalidInput):
        parsing.clean_text(raw, max_length=100)


def test_text_longer_than_its_field_is_refused_and_newlines_pass_where_multiline():
    with pytest.raises(InvalidInput, match="at most 5"):
        parsing.clean_text("x" * 6, max_length=5)
    assert parsing.clean_text(" line\nline ", max_length=20, multiline=True) == "line\nline"


def test_query_parameters_absent_give_the_default_and_bad_ones_name_the_parameter():
    params = QueryDict("page=③&limit=&day=2026-01-02")
    assert parsing.query_int(params, "limit", default=50) == 50
    assert parsing.query_date(params, "day") == datetime.date(2026, 1, 2)
    with pytest.raises(InvalidInput) as caught:
        parsing.query_int(params, "page")
    assert caught.value.field == "page" and caught.value.as_dict()["page"]


@pytest.mark.parametrize("raw, expected", [("/cart/", "/cart/"), ("sNaN", "/x/"), ("//evil.example/", "/x/"),
                                           ("https://evil.example/", "/x/"), ("/a\x00", "/x/"), (None, "/x/")])
def test_a_next_target_must_be_a_path_on_this_site(raw, expected):
    request = RequestFactory().get("/")
    assert parsing.local_url(raw, request=request, default="/x/") == expected


def test_form_fields_give_the_helpers_message_in_chinese_by_default():
    field = DecimalInputField(max_digits=10, decimal_places=3)
    from django.core.exceptions import ValidationError
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        field.clean("1e25")
    assert "数字" in caught.value.messages[0]
    assert field.clean("１２.５") == Decimal("12.5")
    assert IntegerInputField().clean("７") == 7
    assert DateInputField().clean("2026-01-02") == datetime.date(2026, 1, 2)
    with pytest.raises(ValidationError):
        DateInputField().clean("0001-01-01")
    with pytest.raises(ValidationError):
        TextInputField(max_length=10).clean("a\x00")
