"""Wagtail admin for supermarket staff: fulfilment queue, employer statements, employee import."""
