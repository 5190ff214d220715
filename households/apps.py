from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HouseholdsConfig(AppConfig):
    name = "households"
    verbose_name = _("Households")

    def ready(self) -> None:
        # The access policy registers its scopes and object permissions (core.access).
        from . import access, import_kinds  # noqa: F401

        import_kinds.register()
