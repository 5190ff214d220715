"""Wagtail admin views of the registry beyond the snippet views: Excel import and export."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from core.admin_views import import_context, progress_url, spreadsheet_import_submit
from core.masking import can_see_personal_data
from core.personal_data import Action, personal_data_access_record
from core.services import background_threshold

from . import import_kinds
from .excel import COLUMNS
from .excel_export import households_export_xlsx
from .forms import HouseholdImportForm
from .selectors import household_list

IMPORT_PERMISSIONS = ("households.add_household", "households.change_household")
EXPORT_PERMISSION = "households.view_household"


def user_may_import(user) -> bool:
    return user.is_authenticated and user.has_perms(IMPORT_PERMISSIONS)


def user_may_export(user) -> bool:
    return user.is_authenticated and (user.has_perm(EXPORT_PERMISSION) or user.has_perm("households.change_household"))


class HouseholdImportView(WagtailAdminTemplateMixin, FormView):
    template_name = "households/admin/household_import.html"
    form_class = HouseholdImportForm
    page_title = gettext_lazy("Import households from Excel")
    header_icon = "upload"

    def dispatch(self, request, *args, **kwargs):
        if not user_may_import(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("wagtailsnippets_households_household:list"), "label": _("households")},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["headers"] = [header for _key, header in COLUMNS]
        context["export_url"] = reverse("households_export")
        context["background_rows"] = background_threshold()
        return context

    def form_valid(self, form):
        job = spreadsheet_import_submit(request=self.request, kind=import_kinds.KIND, params={}, upload=form.cleaned_data["file"])
        if job.background:
            return redirect(progress_url(job))
        if job.status == job.Status.DONE:
            messages.success(
                self.request,
                _("Imported %(rows)d rows: %(created)d households added, %(updated)d updated, %(unchanged)d unchanged.")
                % {"rows": job.rows, "created": job.created, "updated": job.updated, "unchanged": job.unchanged},
            )
            return redirect("wagtailsnippets_households_household:list")
        return self.render_to_response(self.get_context_data(form=form, **import_context(job)))


class HouseholdExportView(View):
    """The listing's households (same filters and search as its query string) as .xlsx."""

    def get(self, request):
        if not user_may_export(request.user):
            raise PermissionDenied
        queryset = household_list(
            user=request.user,
            filters=request.GET, search=request.GET.get("q", ""), full_id=can_see_personal_data(request.user)
        )
        content = households_export_xlsx(queryset=queryset, user=request.user)
        numbers = list(queryset.order_by("number").values_list("number", flat=True))
        personal_data_access_record(request=request, action=Action.EXPORT, households=numbers, filters=request.GET)
        response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        filename = f"households-{timezone.localdate():%Y%m%d}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"  # personal data: no copies in caches
        return response
