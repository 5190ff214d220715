from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LovePointsConfig(AppConfig):
    name = "lovepoints"
    label = "lovepoints"
    verbose_name = _("Love points (爱心超市)")

    def ready(self) -> None:
        # Love points plug their balance checks into the project's reconcile registry (core),
        # their "no points for months" signal into the households watch list, and the balance
        # beside a household's income; none of those modules imports this app.
        from . import figures, reconcile, watch

        reconcile.register()
        watch.register()
        figures.register()

        from core.landing import register_screens

        from .screens import village_staff_screens

        register_screens(village_staff_screens, rank=30)
