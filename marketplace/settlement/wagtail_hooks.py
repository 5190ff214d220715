"""Wagtail admin: the Settlement page (start a run, its progress bar, the runs, payout lists)."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from core.roles import is_county_office

from . import views


class CountyMenuItem(MenuItem):
    def is_shown(self, request):
        return is_county_office(request.user)


@hooks.register("register_admin_urls")
def settlement_admin_urls():
    return [
        path("settlement/", views.settlement_admin, name="settlement_admin"),
        path("settlement/runs/<int:pk>/progress/", views.run_progress, name="settlement_run_progress"),
    ]


@hooks.register("register_admin_menu_item")
def settlement_menu_item():
    return CountyMenuItem(_("Settlement"), reverse("settlement_admin"), name="settlement", icon_name="calculator", order=260)
