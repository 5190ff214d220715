import datetime

import pytest
from django.core.exceptions import ValidationError

from households.validators import (
    id_check_digit,
    id_number_problem,
    normalise_id_number,
    normalise_text,
    validate_id_number,
    validate_phone,
)

from .factories import valid_id_number


def _with_check(first17: str) -> str:
    return first17 + id_check_digit(first17)


@pytest.mark.parametrize(
    "value",
    [
        "11010519491231002X",  # the GB 11643 standard's own example: X check digit
        valid_id_number(7),
        _with_check("61102520000229123"),  # 29 February of a leap year
        _with_check("61252519800101123"),
    ],
)
def test_valid_id_numbers_pass(value):
    validate_id_number(value)


def test_an_x_check_digit_is_accepted_and_only_in_upper_case():
    value = "11010519491231002X"
    assert id_number_problem(value) is None
    assert id_number_problem(value.lower()) is not None
    assert normalise_id_number(value.lower()) == value


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("61102519750314001", "18"),  # 17 characters
        ("6110251975031400123", "18"),  # 19 characters
        ("61102519750314A01X", "17"),  # a letter among the digits
        (_with_check("61102519750230001"), "19750230"),  # 30 February
        (_with_check("61102519751301001"), "19751301"),  # month 13
        (_with_check(f"611025{datetime.date.today().year + 1}0101001"), "0101"),  # born next year
        (_with_check("61102518990101001"), "18990101"),  # before 1900
    ],
)
def test_invalid_id_numbers_say_why(value, fragment):
    with pytest.raises(ValidationError) as info:
        validate_id_number(value)
    assert fragment in info.value.messages[0]


def test_a_wrong_check_digit_is_refused():
    good = valid_id_number(3)
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(ValidationError) as info:
        validate_id_number(wrong)
    assert "GB 11643" in info.value.messages[0]


@pytest.mark.parametrize("value", ["13812345678", "19912345678", "15000000000"])
def test_mobile_numbers_pass(value):
    validate_phone(value)


@pytest.mark.parametrize("value", ["1381234567", "138123456789", "12812345678", "23812345678", "1381234567a", "0915-1234567", ""])
def test_bad_mobile_numbers_are_refused(value):
    with pytest.raises(ValidationError):
        validate_phone(value)


def test_full_width_digits_and_spaces_are_normalised():
    assert normalise_text("　１３８１２３４５６７８ ") == "13812345678"
    assert normalise_id_number(" １１０１０５ １９４９１２３１００２ｘ") == "11010519491231002X"


def test_validator_messages_are_in_chinese_by_default():
    assert "位" in id_number_problem("123") or "18" in id_number_problem("123")
    with pytest.raises(ValidationError) as info:
        validate_phone("123")
    assert "手机" in info.value.messages[0]
