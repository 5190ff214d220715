"""Issue fresh activation codes for the employees not yet activated and write them to an .xlsx.

    python manage.py activation_codes [--employer CODE] --output FILE.xlsx

Codes are stored hashed, so the sheet is made by issuing new ones: codes handed out earlier to
these employees stop working.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from marketplace.accounts.services import activation_codes_issue
from marketplace.accounts.sheet import activation_codes_xlsx
from marketplace.models import Employer


class Command(BaseCommand):
    help = "Issue new activation codes for not-yet-activated employees and write them (name, phone, code) to an .xlsx file."

    def add_arguments(self, parser):
        parser.add_argument("--employer", help="employer code (default: every employer)")
        parser.add_argument("--output", required=True, help="the .xlsx file to write")

    def handle(self, *args, employer=None, output, **options):
        chosen = None
        if employer:
            chosen = Employer.objects.filter(code=employer).first()
            if chosen is None:
                known = ", ".join(Employer.objects.order_by("code").values_list("code", flat=True)[:20])
                raise CommandError(f"no employer with code {employer!r} (known: {known})")
        path = Path(output)
        if path.suffix.lower() != ".xlsx":
            raise CommandError("--output must end in .xlsx")
        if not path.parent.exists():
            raise CommandError(f"folder {path.parent} does not exist")
        rows = activation_codes_issue(employer=chosen)
        path.write_bytes(activation_codes_xlsx(rows))
        issued = sum(1 for r in rows if r.code)
        self.stdout.write(self.style.SUCCESS(f"{issued} activation codes written to {path} ({len(rows) - issued} employees without a phone)."))
