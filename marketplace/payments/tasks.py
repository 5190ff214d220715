"""Celery tasks applying payment-provider events."""
