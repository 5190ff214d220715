"""Shared pieces of the JSON API."""

from django.utils.translation import gettext_lazy
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError
from .parsing import INT_MAX, query_int

MAX_PAGE_SIZE = 500


def exception_handler(exc, context):
    """DRF's handler, plus: a DomainError (InvalidInput too) becomes its status with its message."""
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    return drf_exception_handler(exc, context)


class Pagination(LimitOffsetPagination):
    """``limit``/``offset`` with a ceiling: a limit above 500 is answered with 500 rows (clamped,
    as the schema says); a limit below 1, a negative offset or one that is not a whole number is
    a 400 naming the parameter — never a database overflow (``?limit=2**63``)."""

    max_limit = MAX_PAGE_SIZE
    limit_query_description = gettext_lazy("Number of results to return per page: 1 to 500 (a larger value is treated as 500).")
    offset_query_description = gettext_lazy("The initial index from which to return the results (0 or more).")

    def get_limit(self, request):
        limit = query_int(request.query_params, self.limit_query_param, default=self.default_limit, min_value=1, max_value=None)
        return min(limit, self.max_limit)

    def get_offset(self, request):
        return query_int(request.query_params, self.offset_query_param, default=0, min_value=0, max_value=INT_MAX)

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param["name"] == self.limit_query_param:
                param["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": self.default_limit}
            elif param["name"] == self.offset_query_param:
                param["schema"] = {"type": "integer", "minimum": 0, "maximum": INT_MAX, "default": 0}
        return params


def only_project_endpoints(endpoints):
    """drf-spectacular preprocessing hook: document our /api/ and not Wagtail's admin API."""
    return [e for e in endpoints if e[0].startswith("/api/")]
