"""Operational tasks of the whole project."""

from celery import shared_task
from django.db import connection


@shared_task
def health_check() -> dict:
    """What monitoring asks a worker: can it reach the database, and what does it see there."""
    from households.models import Household

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"database": connection.vendor, "households": Household.objects.count()}


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
