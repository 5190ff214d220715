"""``python manage.py settle``: settle everything paid and not yet settled (resuming an
unfinished run first) and print what the run attributed."""

from django.core.management.base import BaseCommand

from core.templatetags.relief import cny
from marketplace.settlement.services import settlement_run


class Command(BaseCommand):
    help = "Settle every paid sale and refund not yet settled (idempotent, resumable)."

    def handle(self, *args, **options):
        run = settlement_run()
        self.stdout.write(
            f"{run.code}: {run.items_done} items, {run.lines_written} lines, sales {cny(run.sales_amount)}, "
            f"refunds {cny(run.refunds_amount)}, dividends {cny(run.dividend_amount)}"
        )
