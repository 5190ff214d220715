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
