"""Wagtail admin for supermarket staff and the county office: the employee Excel import (an
admin view), and menu items leading to the fulfilment queue and employer statements (site pages
in marketplace/staff_views.py, built for phones)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from core.admin_views import import_context, progress_url, spreadsheet_import_submit
from core.services import background_threshold

from . import import_kinds
from .employees_import import COLUMNS, employees_template_xlsx
from .models import Employer
from .staff_views import is_supermarket_staff

IMPORT_PERMISSIONS = ("marketplace.add_employee", "marketplace.change_employee")


def user_may_import_employees(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perms(IMPORT_PERMISSIONS))


class EmployeeImportForm(forms.Form):
    employer = forms.ModelChoiceField(queryset=Employer.objects.order_by("code"), label=gettext_lazy("Employer"))
    file = forms.FileField(
        label=gettext_lazy("Excel file (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("Upload an Excel workbook (.xlsx); save .xls or .csv files as .xlsx first."))
        return upload


class EmployeeImportView(WagtailAdminTemplateMixin, FormView):
    template_name = "marketplace/staff/employee_import.html"
    form_class = EmployeeImportForm
    page_title = gettext_lazy("Import employees from Excel")
    header_icon = "upload"

    def dispatch(self, request, *args, **kwargs):
        if not user_may_import_employees(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        employer = self.request.GET.get("employer")
        return {"employer": employer} if employer and employer.isdigit() else {}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["headers"] = [header for _key, header in COLUMNS]
        context["template_url"] = reverse("marketplace_employees_template")
        context["background_rows"] = background_threshold()
        return context

    def form_valid(self, form):
        employer = form.cleaned_data["employer"]
        job = spreadsheet_import_submit(
            request=self.request, kind=import_kinds.KIND, params={"employer": employer.pk}, upload=form.cleaned_data["file"]
        )
        if job.background:
            return redirect(progress_url(job))
        if job.status == job.Status.DONE:
            messages.success(self.request, _(
                "%(employer)s: imported %(rows)d rows: %(created)d employees added, %(updated)d updated, %(unchanged)d unchanged.")
                % {"employer": employer.name, "rows": job.rows, "created": job.created, "updated": job.updated,
                   "unchanged": job.unchanged})
            return redirect(f"{reverse('marketplace_employees_import')}?employer={employer.pk}")
        return self.render_to_response(self.get_context_data(form=form, **import_context(job)))


class PaymentEventsView(WagtailAdminTemplateMixin, TemplateView):
    """Card-payment events from the provider, with those needing a person's attention first."""

    template_name = "marketplace/staff/payment_events.html"
    page_title = gettext_lazy("Card payment events")
    header_icon = "list-ul"

    def dispatch(self, request, *args, **kwargs):
        if not is_supermarket_staff(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        from .payments.services import ATTENTION_PREFIXES, payment_events_list

        context = super().get_context_data(**kwargs)
        attention = self.request.GET.get("attention") == "1"
        events = list(payment_events_list(attention_only=attention))
        for event in events:
            obj = (event.payload.get("data") or {}).get("object") or {}
            event.order_number = (obj.get("metadata") or {}).get("order_number") or obj.get("client_reference_id") or obj.get("out_trade_no") or ""
            event.needs_attention = event.outcome.startswith(ATTENTION_PREFIXES) or event.processed_at is None
        context.update(events=events, attention=attention)
        return context


class ProviderReconciliationView(WagtailAdminTemplateMixin, TemplateView):
    """The daily comparison of the books with each payment provider: every difference (county office)."""

    template_name = "marketplace/staff/provider_reconciliation.html"
    page_title = gettext_lazy("Payment provider reconciliation")
    header_icon = "list-ul"

    def dispatch(self, request, *args, **kwargs):
        from .access import provider_reconciliations_visible_to

        if not provider_reconciliations_visible_to.applies_to(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        import datetime

        from .payments.reconcile import reconciliations_list

        context = super().get_context_data(**kwargs)
        raw = self.request.GET.get("date") or ""
        try:
            day = datetime.date.fromisoformat(raw) if raw else None
        except ValueError:
            day, context["date_error"] = None, _("Enter the date as YYYY-MM-DD.")
        context.update(reports=list(reconciliations_list(user=self.request.user, day=day)), day=day, raw_date=raw)
        return context


class EmployeeTemplateView(View):
    def get(self, request):
        if not user_may_import_employees(request.user):
            raise PermissionDenied
        response = HttpResponse(employees_template_xlsx(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = 'attachment; filename="employees-template.xlsx"'
        return response


class _PermittedMenuItem(MenuItem):
    def __init__(self, *args, allowed, **kwargs):
        super().__init__(*args, **kwargs)
        self.allowed = allowed

    def is_shown(self, request):
        return self.allowed(request.user)


@hooks.register("register_admin_urls")
def marketplace_staff_admin_urls():
    return [
        path("marketplace/employees/import/", EmployeeImportView.as_view(), name="marketplace_employees_import"),
        path("marketplace/employees/template.xlsx", EmployeeTemplateView.as_view(), name="marketplace_employees_template"),
        path("marketplace/payment-events/", PaymentEventsView.as_view(), name="marketplace_payment_events"),
        path("marketplace/payment-reconciliation/", ProviderReconciliationView.as_view(), name="marketplace_provider_reconciliation"),
    ]


@hooks.register("register_admin_menu_item")
def fulfilment_menu_item():
    return _PermittedMenuItem(gettext_lazy("Fulfilment queue"), reverse("staff_queue"), name="fulfilment-queue", icon_name="list-ul",
                              order=310, allowed=is_supermarket_staff)


@hooks.register("register_admin_menu_item")
def statements_menu_item():
    return _PermittedMenuItem(gettext_lazy("Employer statements"), reverse("staff_statements"), name="employer-statements",
                              icon_name="doc-full", order=320, allowed=is_supermarket_staff)


@hooks.register("register_admin_menu_item")
def payment_events_menu_item():
    return _PermittedMenuItem(gettext_lazy("Card payment events"), reverse("marketplace_payment_events"), name="payment-events",
                              icon_name="warning", order=325, allowed=is_supermarket_staff)


@hooks.register("register_admin_menu_item")
def provider_reconciliation_menu_item():
    from .access import provider_reconciliations_visible_to

    return _PermittedMenuItem(gettext_lazy("Payment provider reconciliation"), reverse("marketplace_provider_reconciliation"),
                              name="provider-reconciliation", icon_name="warning", order=326,
                              allowed=provider_reconciliations_visible_to.applies_to)


@hooks.register("register_admin_menu_item")
def employee_import_menu_item():
    return _PermittedMenuItem(gettext_lazy("Import employees"), reverse("marketplace_employees_import"), name="employees-import",
                              icon_name="upload", order=330, allowed=user_may_import_employees)


__all__ = ["EmployeeImportView", "PaymentEventsView", "ProviderReconciliationView", "user_may_import_employees"]
