"""The county office registers work units' canteens in the admin (budgets and reserved shares are
set per year on /canteen/progress/, buyers order on /canteen/)."""

from django.utils.translation import gettext_lazy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from .models import Canteen


class CanteenViewSet(SnippetViewSet):
    model = Canteen
    icon = "home"
    menu_label = gettext_lazy("Canteens")
    menu_name = "canteens"
    add_to_admin_menu = True
    menu_order = 260
    list_display = ["name", "code", "employer", "active"]
    list_filter = ["active"]
    search_fields = ["name", "code"]
    ordering = ["code"]
    copy_view_enabled = False
    inspect_view_enabled = False


register_snippet(CanteenViewSet)
