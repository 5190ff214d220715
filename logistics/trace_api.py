"""Trace API for staff, mounted under /api/v1/:

- ``GET trace/<code>/`` — a batch code (backward and forward), a lot code or a household
  registry number (forward); any supply-chain staff role or the county office, for a subject in
  their scope (logistics/access.py) — 404 otherwise.
- ``GET trace/<code>/export.xlsx`` — the same trace as a spreadsheet with FSMA-204's key data elements.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from .access import is_supply_chain_staff, trace_for_user
from .trace_export import trace_xlsx


class IsSupplyChainStaff(BasePermission):
    message = "Only supply-chain staff and the county office may read a trace."

    def has_permission(self, request, view) -> bool:
        return is_supply_chain_staff(request.user)


def _trace_or_404(request, code: str):
    """The trace if its subject is in the user's scope (logistics/access.py); outside it, the
    same 404 as for a code that does not exist."""
    trace = trace_for_user(request.user, code)
    if trace is None:
        raise NotFound(_("No batch, lot or household has the code “%(code)s”.") % {"code": code})
    return trace


class TraceView(APIView):
    permission_classes = [IsAuthenticated, IsSupplyChainStaff]

    @extend_schema(
        summary="Trace a batch, lot or household",
        description="Backward from a batch code to its lots, intakes, households (registry numbers) and collection points; "
        "forward from a lot code or household registry number to every batch, shipment and sale. "
        "`events` lists FSMA-204 key data elements per critical tracking event.",
        responses={200: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT},
    )
    def get(self, request, code: str):
        return Response(_trace_or_404(request, code).as_dict())


class TraceExportView(APIView):
    permission_classes = [IsAuthenticated, IsSupplyChainStaff]

    @extend_schema(
        summary="Trace as a spreadsheet (.xlsx)",
        responses={(200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY},
    )
    def get(self, request, code: str):
        trace = _trace_or_404(request, code)
        response = HttpResponse(
            trace_xlsx(trace), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f'attachment; filename="trace-{trace.code}.xlsx"'
        return response


urlpatterns = [
    path("trace/<str:code>/", TraceView.as_view(), name="api-trace"),
    path("trace/<str:code>/export.xlsx", TraceExportView.as_view(), name="api-trace-export"),
]
