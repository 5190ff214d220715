"""Wagtail admin views of the allocation for the county office: spending progress per employer
(and, for one employer, per employee) with filters, and the button that grants a year."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from core.parsing import DATE_MAX, DATE_MIN, query_id, query_int
from core.roles import is_county_office

from .filters import EmployeeProgressFilter, EmployerProgressFilter
from .models import AllocationEntry, Employee, Employer
from .selectors import employee_progress, employer_progress
from .services.allocation import allocation_today, allocation_year_get


class CountyOnlyMixin:
    def dispatch(self, request, *args, **kwargs):
        if not is_county_office(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def _year(request) -> int:
    params = request.GET if request.GET.get("year") else request.POST
    return query_int(params, "year", default=allocation_today().year, min_value=DATE_MIN.year, max_value=DATE_MAX.year)


class AllocationProgressView(CountyOnlyMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "marketplace/admin/allocation_progress.html"
    page_title = gettext_lazy("Allocation spending progress")
    header_icon = "table"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        year = _year(self.request)
        employer = Employer.objects.filter(pk=query_id(self.request.GET, "employer") or 0).first()
        if employer is not None:
            rows = employee_progress(year=year, employer=employer, filters=self.request.GET)
            filterset = EmployeeProgressFilter(self.request.GET, queryset=Employee.objects.none())
        else:
            rows = employer_progress(year=year, filters=self.request.GET)
            filterset = EmployerProgressFilter(self.request.GET, queryset=Employer.objects.none())
        rows = list(rows)
        context.update(
            year=year,
            setting=allocation_year_get(year=year),
            employer=employer,
            rows=rows,
            filter_form=filterset.form,
            totals={k: sum(getattr(r, k) for r in rows) for k in ("granted", "spent", "refunded", "balance")},
            granted_count=AllocationEntry.objects.filter(year=year, kind=AllocationEntry.Kind.GRANT).count(),
            active_count=Employee.objects.filter(active=True).count(),
            grant_url=reverse("marketplace_allocation_grant"),
        )
        return context


class AllocationGrantView(CountyOnlyMixin, View):
    """Start the year's grant (the same Celery task beat runs on 1 January; safe to repeat)."""

    def post(self, request):
        from .tasks import allocations_grant_year_task

        year = _year(request)
        result = allocations_grant_year_task.delay(year)
        if result.ready():
            messages.success(request, _("%(count)d employees were granted the %(year)s allocation.") % {"count": result.get(), "year": year})
        else:
            messages.success(request, _("Granting the %(year)s allocation has started.") % {"year": year})
        return redirect(f"{reverse('marketplace_allocation_progress')}?year={year}")
