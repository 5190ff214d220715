"""Signals households sends for the apps above it (which it never imports)."""

from django.dispatch import Signal

# Sent (with ``entry``, the reversing IncomeEntry) when an income entry is reversed — an intake
# voided, a correction — so that published figures built on the ledger can follow.
income_entry_reversed = Signal()
