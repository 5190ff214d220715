"""``python manage.py payments_reconcile --date YYYY-MM-DD``: compare a day's payments and refunds
in the books with each configured provider's records (marketplace.payments.reconcile), store the
report for the county office and print every difference; exit 1 when there is one."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from marketplace.payments.reconcile import payments_reconcile


class Command(BaseCommand):
    help = "Compare one day's payments and refunds with WeChat Pay, Alipay and Stripe; list every difference (exit 1 if any)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="the day, YYYY-MM-DD (default: yesterday, Asia/Shanghai)")

    def handle(self, *args, **options):
        try:
            day = datetime.date.fromisoformat(options["date"]) if options.get("date") else timezone.localdate() - datetime.timedelta(days=1)
        except ValueError:
            raise CommandError("--date must be YYYY-MM-DD") from None
        reports = payments_reconcile(day=day)
        if not reports:
            self.stdout.write(f"{day}: no payment provider is configured; nothing to compare.")
            return
        differences = 0
        for report in reports:
            self.stdout.write(f"{day} {report.provider}: {report.checked} payments compared, {len(report.differences)} differences")
            for d in report.differences:
                self.stdout.write(f"  {d['order']}  {d['kind']}  books={d['books']}  provider={d['provider']}  {d['message']}")
            differences += len(report.differences)
        if differences:
            raise SystemExit(1)
