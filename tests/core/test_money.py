"""Money and weight rounding: the one module that rounds, and the largest-remainder split."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import (
    from_fen,
    jin_to_kg,
    kg_to_jin,
    line_amount,
    price_per_jin,
    split_largest_remainder,
    to_decimal,
    to_fen,
    yuan,
)


def test_line_amount_rounds_half_up_to_the_fen():
    assert line_amount(Decimal("1.005"), Decimal("1.00")) == Decimal("1.01")
    assert line_amount(Decimal("12.345"), Decimal("11.80")) == Decimal("145.67")  # 145.671
    assert line_amount(Decimal("0.125"), Decimal("2.00")) == Decimal("0.25")


def test_jin_is_half_a_kilogram_both_ways():
    assert jin_to_kg("5") == Decimal("2.500")
    assert kg_to_jin(Decimal("2.5")) == Decimal("5.000")
    assert price_per_jin(Decimal("12.00")) == Decimal("6.00")


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", "-inf", "", None, "1e"])
def test_non_numbers_and_non_finite_values_are_refused(bad):
    with pytest.raises(ValueError):
        to_decimal(bad)


def test_floats_are_read_by_their_shortest_repr_not_binary_noise():
    assert yuan(0.1 + 0.2) == Decimal("0.30")


def test_fen_round_trip():
    assert to_fen(Decimal("700.00")) == 70000
    assert from_fen(70001) == Decimal("700.01")


def test_split_gives_leftover_fen_to_largest_remainders():
    # 100 fen over three equal shares: 33.33 each, the one fen left goes to the first.
    assert split_largest_remainder(100, [1, 1, 1]) == [34, 33, 33]
    # 10 fen over 1:2:3 — exact 1.67, 3.33, 5.0 → 1, 3, 5 and the fen left to the 0.67 remainder.
    assert split_largest_remainder(10, [1, 2, 3]) == [2, 3, 5]


def test_a_negative_total_mirrors_the_positive_split():
    assert split_largest_remainder(-100, [1, 1, 1]) == [-34, -33, -33]


def test_split_refuses_no_weights_or_zero_weights():
    with pytest.raises(ValueError):
        split_largest_remainder(10, [])
    with pytest.raises(ValueError):
        split_largest_remainder(10, [0, 0])


@given(
    total=st.integers(min_value=-10_000_000, max_value=10_000_000),
    weights=st.lists(st.decimals(min_value="0.001", max_value="5000", places=3), min_size=1, max_size=40),
)
def test_split_always_adds_up_exactly_and_each_part_is_within_a_fen_of_its_share(total, weights):
    parts = split_largest_remainder(total, weights)
    assert sum(parts) == total
    weight_sum = sum(weights)
    for part, w in zip(parts, weights, strict=True):
        exact = Decimal(total) * w / weight_sum
        assert abs(Decimal(part) - exact) < 1
