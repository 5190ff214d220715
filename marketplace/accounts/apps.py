from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Employees' own sign-in: activation codes from their employer, password reset by SMS, and
    the employer coordinators who hand the codes out. Marketplace's (it builds on Employee), with
    its own label so its models and migrations stand apart from the shop's."""

    name = "marketplace.accounts"
    label = "accounts"
    verbose_name = _("Employee accounts")
