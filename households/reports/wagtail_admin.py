"""Wagtail admin for income reports and the watch list."""
