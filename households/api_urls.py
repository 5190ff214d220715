"""JSON API routes of households, mounted under /api/v1/ (household income: households/reports/)."""

from .reports.api_urls import urlpatterns

__all__ = ["urlpatterns"]
