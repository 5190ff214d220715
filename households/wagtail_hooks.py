"""Wagtail admin for the registry."""

from .reports import wagtail_admin  # noqa: F401  (income reports and the watch list register themselves)
