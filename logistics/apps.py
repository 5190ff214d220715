from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LogisticsConfig(AppConfig):
    name = "logistics"
    verbose_name = _("Supply chain")

    def ready(self) -> None:
        # The access policy registers its scopes and object permissions (core.access); the
        # income report filters and reads produce by name (the registry never imports us).
        from households.reports.selectors import register_produce_names

        from . import access  # noqa: F401

        register_produce_names(_produce_names)


def _produce_names() -> dict[str, str]:
    from .models import Produce

    return dict(Produce.objects.values_list("code", "name"))
