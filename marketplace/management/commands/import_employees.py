"""``python manage.py import_employees FILE.xlsx --employer CODE``: one employer's employee import
(marketplace.services.employees_import) from the command line, all or nothing; exit 1 listing
every refused row."""

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from core.import_command import SpreadsheetImportCommand
from marketplace.models import Employer
from marketplace.services.employees_import import employees_import_xlsx


class Command(SpreadsheetImportCommand):
    help = "Import (create or update) one employer's employees from an .xlsx file, all rows or none; exit 1 listing every refused row."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--employer", required=True, help="the employer's code (单位代码)")

    def run_import(self, *, file, options):
        employer = Employer.objects.filter(code=options["employer"]).first()
        if employer is None:
            raise CommandError(_("No employer with the code %(code)s.") % {"code": options["employer"]})
        return employees_import_xlsx(employer=employer, file=file, author=None)
