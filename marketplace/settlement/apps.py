from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SettlementConfig(AppConfig):
    """Settlement is marketplace's (it follows order lines into batches); it has its own app label
    so its models and migrations stand apart from the shop's."""

    name = "marketplace.settlement"
    label = "settlement"
    verbose_name = _("Settlement")

    def ready(self) -> None:
        from households.signals import income_entry_reversed

        from . import access  # noqa: F401  (registers the payout scope, core.access)

        income_entry_reversed.connect(_refresh_money_flow, dispatch_uid="settlement-money-flow-after-reversal")
        from core.reconcile import register_check

        from .checks import CHECKS

        for name, check in CHECKS.items():
            register_check(name)(check)


def _refresh_money_flow(**_kwargs) -> None:
    # an intake void (or any correction) changes what was paid to households: publish it
    from .money_flow import money_flow_refresh_soon

    money_flow_refresh_soon()
