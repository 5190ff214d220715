"""The writer of SpreadsheetImport: starting an import (the upload kept in private storage), running
it (in the request for a small file, as a Celery task for a large one), its progress and outcome."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import DomainError
from .models import SpreadsheetImport
from .spreadsheet import IMPORT_KINDS, count_rows, problems_report_xlsx

logger = logging.getLogger(__name__)

PROBLEMS_KEPT = 2000  # shown on the page; the report file holds them all

Status = SpreadsheetImport.Status
_TRANSITIONS = {
    Status.QUEUED: {Status.RUNNING, Status.FAILED},
    # RUNNING -> RUNNING: a worker killed mid-import gets the task again (acks late) and starts over.
    Status.RUNNING: {Status.RUNNING, Status.DONE, Status.REFUSED, Status.FAILED},
    Status.DONE: set(),
    Status.REFUSED: set(),
    Status.FAILED: set(),
}


class ImportStatusError(DomainError):
    code = "import_status"


def spreadsheet_import_set_status(*, job: SpreadsheetImport, status: str, **fields) -> SpreadsheetImport:
    """The one place an import's status changes; refuses a change not in the table."""
    if status not in _TRANSITIONS[job.status]:
        raise ImportStatusError(_("An import cannot go from %(old)s to %(new)s.") % {"old": job.status, "new": status})
    job.status = status
    for name, value in fields.items():
        setattr(job, name, value)
    SpreadsheetImport.objects.filter(pk=job.pk).update(status=status, **fields)
    return job


def background_threshold() -> int:
    return settings.RELIEF_IMPORT_BACKGROUND_ROWS


@transaction.atomic
def spreadsheet_import_start(*, kind: str, params: dict, upload, author=None) -> SpreadsheetImport:
    """Keep the upload and decide where it runs: a file of more than RELIEF_IMPORT_BACKGROUND_ROWS
    rows (or one that does not say how many) is queued for a worker once this transaction commits;
    a smaller one is for the caller to run at once (``spreadsheet_import_run``)."""
    if kind not in IMPORT_KINDS:
        raise DomainError(_("Unknown import kind %(kind)s.") % {"kind": kind})
    rows_total = count_rows(upload)
    background = rows_total is None or rows_total > background_threshold()
    job = SpreadsheetImport(
        kind=kind,
        params=params,
        original_name=(getattr(upload, "name", "") or "upload.xlsx")[-255:],
        rows_total=rows_total,
        background=background,
        author=author if author is not None and author.is_authenticated else None,
    )
    if hasattr(upload, "seek"):
        upload.seek(0)
    job.upload.save("upload.xlsx", upload if hasattr(upload, "chunks") else ContentFile(upload.read()), save=False)
    job.save()
    if background:
        from .tasks import spreadsheet_import_run_task

        spreadsheet_import_run_task.delay_on_commit(job.pk)
    return job


def spreadsheet_import_run(*, job_id: int) -> SpreadsheetImport:
    """Run one import to its end; safe to run twice (a finished import is left as it is).

    The kind's importer writes all or nothing in its own transaction; this records progress while
    the file is read (committed as it goes, so the progress page sees it) and the outcome. An
    unexpected error ends the import as failed (nothing was written) rather than in a 500.
    """
    job = SpreadsheetImport.objects.get(pk=job_id)
    if job.finished:
        return job
    kind = IMPORT_KINDS[job.kind]
    spreadsheet_import_set_status(job=job, status=Status.RUNNING, started_at=timezone.now(), rows_read=0)

    def progress(rows_read: int, *, reading_done: bool = False) -> None:
        fields = {"rows_read": rows_read}
        if reading_done:
            fields["rows_total"] = rows_read  # the bar is full: what is left is writing
        SpreadsheetImport.objects.filter(pk=job.pk).update(**fields)

    try:
        with job.upload.open("rb") as upload:
            result = kind.run(file=upload, params=job.params, author=job.author, progress=progress)
    except Exception:
        logger.exception("spreadsheet import %s failed", job.pk)
        spreadsheet_import_set_status(job=job, status=Status.FAILED, finished_at=timezone.now())
        return job

    problems = [[p.row, p.column, p.reason] for p in result.problems[:PROBLEMS_KEPT]]
    outcome = Status.DONE if result.ok else Status.REFUSED
    if not result.ok:
        job.report.save("refused.xlsx", ContentFile(problems_report_xlsx(result)), save=False)
    spreadsheet_import_set_status(
        job=job,
        status=outcome,
        finished_at=timezone.now(),
        rows=result.rows,
        rows_read=result.rows,
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        bad_row_count=len(result.bad_rows),
        problem_count=len(result.problems),
        problems=problems,
        report=job.report.name or "",
    )
    return job
