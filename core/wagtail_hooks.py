"""Admin hooks of core: the access policy's bulk delete (core/admin_access.py) and the pages of a
spreadsheet import (progress, status, bad-row report)."""

from django.urls import path
from wagtail import hooks

from .admin_access import ScopedSnippetDeleteBulkAction
from .admin_views import SpreadsheetImportProgressView, SpreadsheetImportReportView, SpreadsheetImportStatusView

# After Wagtail's own snippet bulk delete (order 0), so this one replaces it for every snippet.
hooks.register("register_bulk_action", ScopedSnippetDeleteBulkAction, order=100)


@hooks.register("register_admin_urls")
def spreadsheet_import_admin_urls():
    return [
        path("imports/<int:pk>/", SpreadsheetImportProgressView.as_view(), name="spreadsheet_import_progress"),
        path("imports/<int:pk>/status.json", SpreadsheetImportStatusView.as_view(), name="spreadsheet_import_status"),
        path("imports/<int:pk>/refused-rows.xlsx", SpreadsheetImportReportView.as_view(), name="spreadsheet_import_report"),
    ]
