from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HouseholdsConfig(AppConfig):
    name = "households"
    verbose_name = _("Households")

    def ready(self) -> None:
        # The access policy registers its scopes and object permissions (core.access).
        from . import access, import_kinds  # noqa: F401

        import_kinds.register()

        from core.reconcile import register_check, register_rebuild

        from .summary import check_income_summary, income_summary_rebuild

        register_check("income_summary")(check_income_summary)
        register_rebuild("income_summary")(income_summary_rebuild)
