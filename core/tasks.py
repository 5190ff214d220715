"""Operational tasks of the whole project."""

from __future__ import annotations

import importlib

from celery import shared_task
from django.apps import apps
from django.db import connection


def health_figures() -> dict:
    """What each app wants a health check to report, as ``HEALTH_FIGURES = {name: callable}`` in
    ``<app>/tasks.py`` (the way apps list their periodic tasks): core imports no app, so it asks."""
    figures: dict = {}
    for config in apps.get_app_configs():
        try:
            module = importlib.import_module(f"{config.name}.tasks")
        except ModuleNotFoundError as exc:
            if exc.name == f"{config.name}.tasks":
                continue
            raise
        figures.update(getattr(module, "HEALTH_FIGURES", {}))
    return figures


@shared_task
def health_check() -> dict:
    """What monitoring asks a worker: can it reach the database, and what does it see there."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"database": connection.vendor, **{name: figure() for name, figure in health_figures().items()}}


@shared_task(acks_late=True)
def spreadsheet_import_run_task(job_id: int) -> str:
    """Run one uploaded import (core.services.spreadsheet_import_run); safe to run twice."""
    from .services import spreadsheet_import_run

    return spreadsheet_import_run(job_id=job_id).status


@shared_task(bind=True, max_retries=5)
def sms_send(self, phone: str, text: str) -> None:
    """Send one text message through the configured backend (core/sms.py); a gateway that does
    not answer is tried again later (not when run eagerly: the page that asked must not fail
    because a gateway is down). The texts are notices or codes: one sent twice after a lost
    acknowledgement does no harm."""
    import logging

    from .sms import SmsNotSent, send_sms

    try:
        send_sms(phone, text)
    except SmsNotSent as exc:
        logging.getLogger(__name__).error("SMS to %s not sent: %s", phone, exc)
        if not self.request.is_eager:
            raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc
