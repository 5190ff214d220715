"""``python manage.py reconcile``: run every registered balance check (logistics/reconcile.py and
those other apps register), print each imbalance, exit non-zero if there is any."""

import time

from django.core.management.base import BaseCommand, CommandError

from core.reconcile import rebuild, registered_rebuilds
from logistics.reconcile import registered_checks, run_checks


class Command(BaseCommand):
    help = "Check mass balance, stock counters and every registered ledger balance; exit 1 naming each imbalance."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="append", dest="checks", help="run only this check (repeatable)")
        parser.add_argument("--list", action="store_true", help="list the registered checks (and rebuilds) and exit")
        parser.add_argument("--rebuild", action="append", dest="rebuilds",
                            help="recompute this derived table from its ledger first, e.g. income_summary (repeatable)")

    def handle(self, *args, checks=None, list=False, rebuilds=None, **options):
        if list:
            for name in sorted(registered_checks()):
                self.stdout.write(name)
            for name in sorted(registered_rebuilds()):
                self.stdout.write(f"--rebuild {name}")
            return
        for name in rebuilds or []:
            try:
                started = time.perf_counter()
                rows = rebuild(name)
            except KeyError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(self.style.SUCCESS(f"rebuilt {name}: {rows} rows ({(time.perf_counter() - started) * 1000:.0f} ms)"))
        try:
            names = checks or sorted(registered_checks())
            total = 0
            for name in names:
                started = time.perf_counter()
                problems = run_checks([name])[name]
                took = (time.perf_counter() - started) * 1000
                total += len(problems)
                if problems:
                    self.stdout.write(self.style.ERROR(f"✗ {name}: {len(problems)} imbalance(s) ({took:.0f} ms)"))
                    for p in problems:
                        self.stdout.write(f"  {name}: {p}")
                else:
                    self.stdout.write(self.style.SUCCESS(f"✓ {name} ({took:.0f} ms)"))
        except KeyError as exc:
            raise CommandError(str(exc)) from None
        if total:
            raise CommandError(f"{total} imbalance(s) found")
        self.stdout.write(self.style.SUCCESS("All books balance."))
