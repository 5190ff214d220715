"""Signals logistics sends for higher apps to listen to (logistics never imports them).

``stock_moved`` — stock counters changed by a set-based write (``batch_stock_take``), which
saves no model one by one and so sends no ``post_save``; the storefront's page cache listens.
Keyword arguments: ``facility_ids``.
"""

from django.dispatch import Signal

stock_moved = Signal()
