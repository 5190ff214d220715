from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    name = "cms"
    label = "cms"
    verbose_name = _("Storefront")

    def ready(self) -> None:
        from . import signals

        signals.connect()

        from core.landing import register_screens

        from .screens import employee_screens

        register_screens(employee_screens, rank=90)
