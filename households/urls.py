"""Site routes of households: income reports and household income pages (households/reports/)."""

from .reports.urls import urlpatterns

__all__ = ["urlpatterns"]
