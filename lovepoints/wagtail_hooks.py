"""The county office reaches the love-points pages (approvals, report, rules) from the admin menu."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import access


class LovePointsMenuItem(MenuItem):
    def is_shown(self, request):
        return access.is_county_office(request.user)


@hooks.register("register_admin_menu_item")
def love_points_menu_item():
    return LovePointsMenuItem(_("Love points (爱心超市)"), reverse("lovepoints:home"), icon_name="tasks", order=450)
