"""Wagtail admin for the shop."""

from . import staff_admin  # noqa: F401  (fulfilment queue, statements, employee import)
