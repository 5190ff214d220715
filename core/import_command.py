"""What the import commands (``import_households``, ``import_employees``) share: open the file,
run the import (all or nothing), print every refused row with its reason and exit 1, or print the
counts and exit 0. ``--report`` writes the refused rows as .xlsx beside their original columns."""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from .spreadsheet import ImportResult, problems_report_xlsx


class SpreadsheetImportCommand(BaseCommand):
    """Subclasses implement ``run_import(*, file, options) -> ImportResult``."""

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .xlsx file")
        parser.add_argument("--report", help="write the refused rows with a reason column to this .xlsx file")
        parser.add_argument("--language", default=settings.LANGUAGE_CODE, help="language of the messages (zh-hans, en)")

    def run_import(self, *, file, options) -> ImportResult:
        raise NotImplementedError

    def handle(self, *args, file, report=None, language=None, **options):
        with translation.override(language):
            self._handle(file, report, options)

    def _handle(self, path: str, report: str | None, options) -> None:
        source = Path(path)
        if not source.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        started = time.perf_counter()
        with source.open("rb") as fh:
            result = self.run_import(file=fh, options=options)
        took = time.perf_counter() - started
        if result.ok:
            self.stdout.write(self.style.SUCCESS(
                _("%(rows)d rows imported in %(s).1f s: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.")
                % {"rows": result.rows, "s": took, "created": result.created, "updated": result.updated,
                   "unchanged": result.unchanged}))  # fmt: skip
            return
        for problem in result.problems:
            where = _("row %(row)d") % {"row": problem.row} if problem.row else _("file")
            column = f" [{problem.column}]" if problem.column else ""
            self.stdout.write(f"{where}{column}: {problem.reason}")
        if report:
            Path(report).write_bytes(problems_report_xlsx(result))
            self.stdout.write(_("Refused rows written to %(path)s.") % {"path": report})
        raise CommandError(
            _("Nothing was imported: %(rows)d rows refused (%(problems)d problems).")
            % {"rows": len(result.bad_rows), "problems": len(result.problems)}
        )
