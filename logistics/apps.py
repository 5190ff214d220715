from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LogisticsConfig(AppConfig):
    name = "logistics"
    verbose_name = _("Supply chain")

    def ready(self) -> None:
        # The access policy registers its scopes and object permissions (core.access).
        from . import access  # noqa: F401
