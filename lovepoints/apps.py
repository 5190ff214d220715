from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LovePointsConfig(AppConfig):
    name = "lovepoints"
    label = "lovepoints"
    verbose_name = _("Love points (爱心超市)")

    def ready(self) -> None:
        # Love points plug their balance checks into the project's reconcile registry (core) and
        # their "no points for months" signal into the households watch list; neither of those
        # modules imports this app.
        from . import reconcile, watch

        reconcile.register()
        watch.register()
