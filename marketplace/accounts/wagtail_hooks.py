"""The activation-code page (a site page, printable) linked from the county office's admin menu."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from core import roles


class _CountyOnlyMenuItem(MenuItem):
    def is_shown(self, request):
        return roles.is_county_office(request.user)


@hooks.register("register_admin_menu_item")
def activation_codes_menu_item():
    return _CountyOnlyMenuItem(_("Activation codes"), reverse("activation_codes"), name="activation-codes", icon_name="key", order=260)
