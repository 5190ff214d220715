from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LogisticsConfig(AppConfig):
    name = "logistics"
    verbose_name = _("Supply chain")

    def ready(self) -> None:
        # The access policy registers its scopes and object permissions (core.access); the
        # income report filters and reads produce by name (the registry never imports us).
        from core.landing import register_screens
        from households.reports.selectors import register_produce_names

        from . import access  # noqa: F401
        from .screens import supply_chain_screens

        register_produce_names(_produce_names)
        # after the supermarket's own queue (rank 10): its staff also receive here, but land on orders
        register_screens(supply_chain_screens, rank=20)


def _produce_names() -> dict[str, str]:
    from .models import Produce

    return dict(Produce.objects.values_list("code", "name"))
