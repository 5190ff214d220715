from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SettlementConfig(AppConfig):
    """Settlement is marketplace's (it follows order lines into batches); it has its own app label
    so its models and migrations stand apart from the shop's."""

    name = "marketplace.settlement"
    label = "settlement"
    verbose_name = _("Settlement")

    def ready(self) -> None:
        from . import access  # noqa: F401  (registers the payout scope, core.access)

        try:
            from logistics import reconcile
        except ImportError:  # the reconcile module is being written; nothing to register with yet
            return
        register = getattr(reconcile, "register_check", None)
        if register is None:
            return
        from .checks import settled_days_attributed_equals_net_sales

        register("settlement_attributed_equals_net_sales")(settled_days_attributed_equals_net_sales)
