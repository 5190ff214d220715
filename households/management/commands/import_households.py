"""``python manage.py import_households FILE.xlsx``: the registry import (households.services_import)
from the command line, all or nothing; exit 1 listing every refused row."""

from core.import_command import SpreadsheetImportCommand
from households.services_import import households_import_xlsx


class Command(SpreadsheetImportCommand):
    help = "Import (create or update) households from an .xlsx file, all rows or none; exit 1 listing every refused row."

    def run_import(self, *, file, options):
        return households_import_xlsx(file=file, author=None)
