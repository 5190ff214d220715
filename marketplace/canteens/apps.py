from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CanteensConfig(AppConfig):
    """Work units' canteens buying their reserved share (预留份额) of poverty-area produce: budgets,
    bulk orders, deliveries (each a marketplace Order of channel ``canteen``, settled to households
    like any sale), invoices and bank transfers, and progress against the share. Marketplace's."""

    name = "marketplace.canteens"
    label = "canteens"
    verbose_name = _("Canteens")

    def ready(self) -> None:
        from core.landing import register_screens
        from core.reconcile import register_check

        from . import access  # noqa: F401  (registers the scopes)
        from .reconcile import check_canteen_deliveries
        from .screens import canteen_screens

        register_screens(canteen_screens, rank=45)
        register_check("canteen_deliveries")(check_canteen_deliveries)
