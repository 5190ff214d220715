"""Wagtail admin for the registry: townships, villages and households as snippets (listing with
filters and search, validated edit, history), Excel import/export, and the registry menu.

Every listing, its search, filters and export, and every object view take their rows from the
access policy (households/access.py, core/admin_access.py): a collection point sees the villages it
serves, a station its township, the county office everything.

Personal data (ID numbers, phones, payout accounts) is shown masked to every role but county
office, in the listing and in the inspect view alike (core.masking).
"""

from django.db import transaction
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.admin.widgets import HeaderButton
from wagtail.log_actions import LogFormatter, log
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import (
    EditView,
    IndexView,
    InspectView,
    SnippetViewSet,
    SnippetViewSetGroup,
)

from core.admin_access import ScopedViewSetMixin
from core.masking import can_see_personal_data, mask_account, mask_id_number, mask_phone
from core.personal_data import Action, personal_data_access_record

from .access import households_visible_to, townships_visible_to, villages_visible_to
from .admin_views import HouseholdExportView, HouseholdImportView, user_may_export, user_may_import
from .filters import HouseholdFilterSet, household_search
from .forms import HouseholdAdminForm
from .models import RISK_FLAGS, Household, Township, Village
from .reports import wagtail_admin  # noqa: F401  (income reports and the watch list register themselves)

MASKS = {"id_number": mask_id_number, "phone": mask_phone, "payout_account": mask_account}


class MaskedColumn(Column):
    """A column of personal data: in full for county office, masked for everyone else."""

    def __init__(self, name, **kwargs):
        kwargs.setdefault("label", capfirst(Household._meta.get_field(name).verbose_name))
        super().__init__(name, **kwargs)
        self.mask = MASKS[name]

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        request = parent_context.get("request")
        if not can_see_personal_data(getattr(request, "user", None)):
            context["raw_value"] = context["value"] = self.mask(self.get_value(instance) or "")
        return context


class HouseholdIndexView(IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("village__township")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # The page shows the ID numbers and phones of these households (unmasked to the county
        # office): the access log names them.
        personal_data_access_record(
            request=self.request,
            action=Action.EXPORT if self.is_export else Action.VIEW,
            households=[h.number for h in context["object_list"]],
            filters=self.request.GET,
        )
        return context

    def search_queryset(self, queryset):
        # Number, head's name, or the last digits of the ID (the search backend cannot do endswith).
        if not self.is_searching:
            return queryset
        return household_search(queryset, self.search_query, full_id=can_see_personal_data(self.request.user))

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        user = self.request.user
        if user_may_import(user):
            buttons.append(HeaderButton(_("Import Excel"), url=reverse("households_import"), icon_name="upload"))
        if user_may_export(user):
            query = self.request.GET.copy()
            for key in ("p", "ordering", "_w_filter_fragment"):
                query.pop(key, None)
            url = reverse("households_export") + (f"?{query.urlencode()}" if query else "")
            buttons.append(HeaderButton(_("Export Excel"), url=url, icon_name="download"))
        return buttons


class HouseholdEditView(EditView):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # The form holds the ID number, phone and payout account in full.
        personal_data_access_record(request=self.request, action=Action.VIEW, households=[self.object.number])
        return context

    @transaction.atomic
    def save_instance(self):
        # Wagtail's plain "edited" entry says who but not what: log which fields changed (their
        # names only; the log must not hold personal data).
        action = self.action_class(self.form.instance, user=self.request.user, form=self.form, log_action=False)
        instance = action.execute(skip_permission_checks=True)
        self.new_revision = action.revision
        changed = list(self.form.changed_data)
        log(
            instance=instance,
            action="households.edit",
            user=self.request.user,
            data={"fields": changed},
            content_changed=bool(changed),
        )
        return instance


class HouseholdInspectView(InspectView):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        personal_data_access_record(request=self.request, action=Action.VIEW, households=[self.object.number])
        return context

    def _shown(self, name):
        value = getattr(self.object, name)
        return value if can_see_personal_data(self.request.user) else MASKS[name](value)

    def get_id_number_display_value(self):
        return self._shown("id_number")

    def get_phone_display_value(self):
        return self._shown("phone")

    def get_payout_account_display_value(self):
        return self._shown("payout_account")


class HouseholdViewSet(ScopedViewSetMixin, SnippetViewSet):
    model = Household
    access_scope = households_visible_to
    icon = "group"
    menu_label = gettext_lazy("Households")
    menu_name = "households"
    index_view_class = HouseholdIndexView
    edit_view_class = HouseholdEditView
    inspect_view_class = HouseholdInspectView
    inspect_view_enabled = True
    filterset_class = HouseholdFilterSet
    search_fields = ["number", "head_name"]  # makes the listing searchable; the search itself is household_search
    list_per_page = 50
    ordering = ["number"]
    copy_view_enabled = False
    list_display = [
        "number",
        "head_name",
        MaskedColumn("id_number"),
        MaskedColumn("phone"),
        "members",
        Column("township", accessor="village.township", label=gettext_lazy("Township"), sort_key="village__township__code"),
        Column("village", label=gettext_lazy("Village"), sort_key="village__code"),
        "labour_class",
        "sub_class",
        "poverty_status",
        "lifted_year",
    ]
    inspect_view_fields = [
        "number",
        "head_name",
        "id_number",
        "phone",
        "members",
        "village",
        "labour_class",
        "sub_class",
        "poverty_status",
        "lifted_year",
        *RISK_FLAGS,
        "payout_bank",
        "payout_account",
        "created_at",
        "updated_at",
    ]
    edit_handler = ObjectList(
        [
            MultiFieldPanel(
                [
                    FieldRowPanel([FieldPanel("number"), FieldPanel("head_name")]),
                    FieldRowPanel([FieldPanel("id_number"), FieldPanel("phone")]),
                    FieldRowPanel([FieldPanel("members"), FieldPanel("village")]),
                ],
                heading=gettext_lazy("Household"),
            ),
            MultiFieldPanel(
                [
                    FieldRowPanel([FieldPanel("labour_class"), FieldPanel("sub_class")]),
                    FieldRowPanel([FieldPanel("poverty_status"), FieldPanel("lifted_year")]),
                    *[FieldPanel(name) for name in RISK_FLAGS],
                ],
                heading=gettext_lazy("Class, status and at-risk flags"),
            ),
            MultiFieldPanel(
                [FieldRowPanel([FieldPanel("payout_bank"), FieldPanel("payout_account")])],
                heading=gettext_lazy("Payout"),
            ),
        ],
        base_form_class=HouseholdAdminForm,
    )


class VillageViewSet(ScopedViewSetMixin, SnippetViewSet):
    model = Village
    access_scope = villages_visible_to
    icon = "home"
    menu_label = gettext_lazy("Villages")
    menu_name = "villages"
    list_display = ["name", "code", "township"]
    list_filter = ["township"]
    search_fields = ["name", "code"]
    ordering = ["code"]
    copy_view_enabled = False


class TownshipViewSet(ScopedViewSetMixin, SnippetViewSet):
    model = Township
    access_scope = townships_visible_to
    icon = "site"
    menu_label = gettext_lazy("Townships")
    menu_name = "townships"
    list_display = ["name", "code", "kind"]
    search_fields = ["name", "code"]
    ordering = ["code"]
    copy_view_enabled = False


class RegistryViewSetGroup(SnippetViewSetGroup):
    items = (HouseholdViewSet, VillageViewSet, TownshipViewSet)
    menu_icon = "group"
    menu_label = gettext_lazy("Poverty registry")
    menu_name = "registry"
    menu_order = 150
    # Other parts of households/ (income reports, the watch list) may add items to this menu by
    # registering a MenuItem with this hook.
    submenu_hook = "register_households_menu_item"


register_snippet(RegistryViewSetGroup)


class _PermittedMenuItem(MenuItem):
    def __init__(self, *args, allowed, **kwargs):
        super().__init__(*args, **kwargs)
        self.allowed = allowed

    def is_shown(self, request):
        return self.allowed(request.user)


@hooks.register("register_households_menu_item")
def registry_import_menu_item():
    return _PermittedMenuItem(
        gettext_lazy("Import from Excel"),
        reverse("households_import"),
        name="households-import",
        icon_name="upload",
        order=10,
        allowed=user_may_import,
    )


@hooks.register("register_admin_urls")
def registry_admin_urls():
    return [
        path("households/import/", HouseholdImportView.as_view(), name="households_import"),
        path("households/export/", HouseholdExportView.as_view(), name="households_export"),
    ]


class HouseholdChangeFormatter(LogFormatter):
    def format_message(self, log_entry):
        names = (log_entry.data or {}).get("fields") or []
        labels = []
        for name in names:
            try:
                labels.append(str(Household._meta.get_field(name).verbose_name))
            except Exception:  # a field removed since the entry was written
                labels.append(name)
        if not labels:
            return self.message
        return f"{self.message}: {'、'.join(labels)}"


@hooks.register("register_log_actions")
def registry_log_actions(actions):
    for action, label, message in [
        ("households.edit", gettext_lazy("Edit household"), gettext_lazy("Edited")),
        ("households.import_create", gettext_lazy("Import household"), gettext_lazy("Added by Excel import")),
        ("households.import_update", gettext_lazy("Import household"), gettext_lazy("Updated by Excel import")),
    ]:
        actions.register_action(action)(
            type("HouseholdLogFormatter", (HouseholdChangeFormatter,), {"label": label, "message": message})
        )
