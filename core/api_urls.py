"""JSON API routes of core, mounted under /api/v1/."""

from .personal_data_api import urlpatterns

__all__ = ["urlpatterns"]
