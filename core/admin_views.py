"""Admin pages of a spreadsheet import: starting one from an app's upload view, its progress page
(refreshes itself while running; no JavaScript needed), a small JSON status, and the bad-row
report. Who may see an import is its kind's rule (the same as who may start one)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .models import SpreadsheetImport
from .services import spreadsheet_import_run, spreadsheet_import_start
from .spreadsheet import IMPORT_KINDS, RowProblem

REFRESH_SECONDS = 2


def spreadsheet_import_submit(*, request, kind: str, params: dict, upload) -> SpreadsheetImport:
    """Keep the upload; run a small file now (the returned import is finished) and leave a large one
    to the worker (the caller redirects to ``progress_url``)."""
    job = spreadsheet_import_start(kind=kind, params=params, upload=upload, author=request.user)
    if not job.background:
        job = spreadsheet_import_run(job_id=job.pk)
    else:
        job.refresh_from_db()  # with eager Celery (the embedded default) it has already run
    return job


def progress_url(job: SpreadsheetImport) -> str:
    return reverse("spreadsheet_import_progress", args=[job.pk])


def import_context(job: SpreadsheetImport) -> dict:
    """What the problems part of the import templates shows."""
    return {
        "import_job": job,
        "problems_shown": [RowProblem(*p) for p in job.problems],
        "problems_hidden": max(0, job.problem_count - len(job.problems)),
        "report_url": reverse("spreadsheet_import_report", args=[job.pk]) if job.report else "",
    }


def _job_for(request, pk: int) -> SpreadsheetImport:
    job = get_object_or_404(SpreadsheetImport, pk=pk)
    kind = IMPORT_KINDS.get(job.kind)
    if kind is None or not request.user.is_authenticated or not kind.may_import(request.user, job.params):
        raise PermissionDenied
    return job


class SpreadsheetImportProgressView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "core/spreadsheet_import_progress.html"
    page_title = gettext_lazy("Spreadsheet import")
    header_icon = "upload"

    def get(self, request, *args, **kwargs):
        self.job = _job_for(request, kwargs["pk"])
        return super().get(request, *args, **kwargs)

    def get_page_title(self):
        return f"{self.page_title}: {IMPORT_KINDS[self.job.kind].title(self.job.params)}"

    def get_breadcrumbs_items(self):
        kind = IMPORT_KINDS[self.job.kind]
        return [*self.breadcrumbs_items, {"url": kind.back_url(self.job.params), "label": kind.title(self.job.params)},
                {"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        kind = IMPORT_KINDS[self.job.kind]
        context.update(import_context(self.job))
        context.update(
            back_url=kind.back_url(self.job.params),
            refresh_seconds=REFRESH_SECONDS,
            status_url=reverse("spreadsheet_import_status", args=[self.job.pk]),
        )
        return context

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        response["Cache-Control"] = "no-store"
        return response


class SpreadsheetImportStatusView(View):
    """The progress as JSON, for anything that would rather poll than reload the page."""

    def get(self, request, pk: int):
        job = _job_for(request, pk)
        data = {
            "status": job.status,
            "finished": job.finished,
            "rows_total": job.rows_total,
            "rows_read": job.rows_read,
            "percent": job.percent,
            "created": job.created,
            "updated": job.updated,
            "unchanged": job.unchanged,
            "bad_rows": job.bad_row_count,
            "problems": job.problem_count,
            "report_url": reverse("spreadsheet_import_report", args=[job.pk]) if job.report else None,
        }
        response = JsonResponse(data)
        response["Cache-Control"] = "no-store"
        return response


class SpreadsheetImportReportView(View):
    """The refused rows with their original cells and a reason column, as .xlsx."""

    def get(self, request, pk: int):
        job = _job_for(request, pk)
        if not job.report:
            raise Http404(_("This import has no bad-row report."))
        stem = job.original_name.rsplit(".", 1)[0] or "import"
        response = FileResponse(
            job.report.open("rb"),
            as_attachment=True,
            filename=f"{stem}-refused-rows.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Cache-Control"] = "no-store"  # personal data: no copies in caches
        return response
