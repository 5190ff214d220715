"""Settlement's checks for ``manage.py reconcile``."""

from __future__ import annotations


def settled_days_attributed_equals_net_sales() -> list[str]:
    """Invariant 4: for every settled day, revenue attributed to households = net sales, to the fen."""
    from .services import settled_days_mismatches

    return settled_days_mismatches()


def settled_days_attributed_equals_net_sales_per_channel() -> list[str]:
    """The same per day and sales channel (online, counter, canteen): each channel's sales reach
    households in full, and no entry carries another channel's revenue."""
    from .services import settled_days_mismatches

    return settled_days_mismatches(by_channel=True)


def run_dividends_equal_rate_times_attributed() -> list[str]:
    """Each run's dividends add up to rate × the revenue it attributed, per allocation year."""
    from .dividends import dividend_mismatches

    return dividend_mismatches()


def published_snapshot_equals_ledger() -> list[str]:
    """Invariant 7: the published money-flow figures equal the ledgers at their stated time."""
    from .money_flow import published_snapshot_mismatches

    return published_snapshot_mismatches()


CHECKS = {
    "settlement_attributed_equals_net_sales": settled_days_attributed_equals_net_sales,
    "settlement_attributed_equals_net_sales_per_channel": settled_days_attributed_equals_net_sales_per_channel,
    "settlement_dividends_equal_rate_times_attributed": run_dividends_equal_rate_times_attributed,
    "published_figures_equal_ledger": published_snapshot_equals_ledger,
}
