"""Celery tasks of the shop."""

from .payments.tasks import *  # noqa: F403  (payment-event tasks live beside the provider)
