"""Shared pieces of the JSON API."""

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError


def exception_handler(exc, context):
    """DRF's handler, plus: a DomainError becomes its status with its message."""
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    return drf_exception_handler(exc, context)


def only_project_endpoints(endpoints):
    """drf-spectacular preprocessing hook: document our /api/ and not Wagtail's admin API."""
    return [e for e in endpoints if e[0].startswith("/api/")]
