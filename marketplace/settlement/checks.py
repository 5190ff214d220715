"""Settlement's check for ``manage.py reconcile``."""

from __future__ import annotations


def settled_days_attributed_equals_net_sales() -> list[str]:
    """Invariant 4: for every settled day, revenue attributed to households = net sales, to the fen."""
    from .services import settled_days_mismatches

    return settled_days_mismatches()
