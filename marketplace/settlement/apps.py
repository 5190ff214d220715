from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SettlementConfig(AppConfig):
    """Settlement is marketplace's (it follows order lines into batches); it has its own app label
    so its models and migrations stand apart from the shop's."""

    name = "marketplace.settlement"
    label = "settlement"
    verbose_name = _("Settlement")
