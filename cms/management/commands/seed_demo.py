"""Build the demo county: registry, facilities and stock, shop and sales, storefront pages.

Each app seeds its own part (``<app>/demo.py``, a ``seed(**options)`` function); this command
lives in cms only because cms may import every app. Running it twice changes nothing.
"""

import importlib

from django.core.management.base import BaseCommand, CommandError

SEEDERS = ["households.demo", "lovepoints.demo", "logistics.demo", "marketplace.demo", "marketplace.canteens.demo", "marketplace.settlement.demo",
           "marketplace.accounts.demo", "cms.demo"]


class Command(BaseCommand):
    help = "Load the demo county (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, default=2000, help="number of households (up to 25,000)")

    def handle(self, *args, households: int, **options):
        if not 1 <= households <= 25000:
            raise CommandError("--households must be between 1 and 25000")
        context: dict = {}
        for path in SEEDERS:
            try:
                module = importlib.import_module(path)
            except ModuleNotFoundError as exc:
                if exc.name == path:
                    continue
                raise
            result = module.seed(households=households, stdout=self.stdout, context=context)
            if isinstance(result, dict):
                context.update(result)
        self.stdout.write(self.style.SUCCESS("Demo county ready."))
