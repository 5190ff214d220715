"""The one module that rounds money and weights.

Money is Decimal yuan with 2 places (fen); weights are Decimal kg with 3 places; jin (斤, 500 g)
is a display and entry unit only. Every rounding in the project goes through here.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")
GRAM = Decimal("0.001")
KG_PER_JIN = Decimal("0.5")
ZERO = Decimal("0.00")


def to_decimal(value) -> Decimal:
    """Parse a number from user input or the database; raise ValueError if it is not finite."""
    if isinstance(value, float):
        value = repr(value)
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValueError(f"not a number: {value!r}") from exc
    if not d.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return d


def yuan(value) -> Decimal:
    """Round to the fen, half up (the rule printed on receipts)."""
    return to_decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


def kg(value) -> Decimal:
    """Round a weight to the gram, half up."""
    return to_decimal(value).quantize(GRAM, rounding=ROUND_HALF_UP)


def jin_to_kg(jin) -> Decimal:
    return kg(to_decimal(jin) * KG_PER_JIN)


def kg_to_jin(weight_kg) -> Decimal:
    return kg(to_decimal(weight_kg) / KG_PER_JIN)


def price_per_jin(price_per_kg) -> Decimal:
    return yuan(to_decimal(price_per_kg) * KG_PER_JIN)


def line_amount(weight_kg, price_per_kg) -> Decimal:
    """Weight × price per kg, rounded half-up to the fen."""
    return yuan(to_decimal(weight_kg) * to_decimal(price_per_kg))


def to_fen(amount) -> int:
    return int(yuan(amount) * 100)


def from_fen(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(FEN)


def split_largest_remainder(total_fen: int, weights: Sequence[Decimal | int]) -> list[int]:
    """Split ``total_fen`` over ``weights`` so that the parts add up exactly to the total.

    Each part first gets the floor of its exact share; the fen left over go, one each, to the
    parts with the largest remainders (ties: the earlier part first). A negative total is split
    as the mirror of the positive one, so that a refund reverses exactly what a sale attributed.
    """
    if total_fen < 0:
        return [-p for p in split_largest_remainder(-total_fen, weights)]
    ws = [to_decimal(w) for w in weights]
    if not ws:
        raise ValueError("nothing to split over")
    if any(w < 0 for w in ws):
        raise ValueError("weights must not be negative")
    weight_sum = sum(ws)
    if weight_sum == 0:
        raise ValueError("weights add up to zero")
    exact = [Decimal(total_fen) * w / weight_sum for w in ws]
    parts = [int(e) for e in exact]  # floor: every e >= 0
    left = total_fen - sum(parts)
    order = sorted(range(len(ws)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:left]:
        parts[i] += 1
    return parts
