"""Trace API for staff, mounted under /api/v1/:

- ``GET trace/<code>/`` — a batch code (backward and forward), a lot code or a household
  registry number (forward); any supply-chain staff role or the county office, for a subject in
  their scope (logistics/access.py) — 404 otherwise. A summary and one page of events
  (``?offset=&limit=``, 50 by default); the lists (lots, batches, shipments, stock, sales) hold
  the same slice, ``lists_page.total`` says how many each has, and ``events_page.next`` links the
  next page (until the events and every list are read).
- ``GET trace/<code>/export.xlsx`` — the same trace as a spreadsheet with FSMA-204's key data elements.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from .access import is_supply_chain_staff, trace_for_user
from .selectors.trace import DEFAULT_PAGE, MAX_PAGE
from .trace_export import trace_xlsx


class IsSupplyChainStaff(BasePermission):
    message = "Only supply-chain staff and the county office may read a trace."

    def has_permission(self, request, view) -> bool:
        return is_supply_chain_staff(request.user)


def _page(request) -> tuple[int, int]:
    """(offset, limit) from the query string; a 400 saying which one is wrong otherwise."""
    values = {}
    for name, default, top in (("offset", 0, None), ("limit", DEFAULT_PAGE, MAX_PAGE)):
        raw = request.query_params.get(name, "")
        if raw == "":
            values[name] = default
            continue
        if len(raw) > 9 or not (raw.isascii() and raw.isdigit()) or (top is not None and not 1 <= int(raw) <= top):
            message = (_("“limit” must be a whole number from 1 to %(max)s.") % {"max": top} if top
                       else _("“offset” must be a whole number, 0 or more."))
            raise ValidationError({name: [message]})
        values[name] = int(raw)
    return values["offset"], values["limit"]


def _trace_or_404(request, code: str, *, offset: int = 0, limit: int | None = None):
    """The trace if its subject is in the user's scope (logistics/access.py); outside it, the
    same 404 as for a code that does not exist."""
    trace = trace_for_user(request.user, code, offset=offset, limit=limit)
    if trace is None:
        raise NotFound(_("No batch, lot or household has the code “%(code)s”.") % {"code": code})
    return trace


class TraceView(APIView):
    permission_classes = [IsAuthenticated, IsSupplyChainStaff]

    @extend_schema(
        summary="Trace a batch, lot or household",
        description="Backward from a batch code to its lots, intakes, households (registry numbers) and collection points; "
        "forward from a lot code or household registry number to every batch, shipment and sale. "
        "`summary` counts lots, households, batches and shipments and sums each stage's events, kg and units; "
        "`events` lists FSMA-204 key data elements per critical tracking event, one page at a time; the lists "
        "(`backward.lots`, `forward.batches`, `forward.shipments`, `forward.stock`, `forward.extra`) hold the same slice "
        "(`lists_page.total`: how many each has). `events_page.next` is the link to the next page.",
        parameters=[
            OpenApiParameter("offset", int, description="first event of the page (0 = the earliest)"),
            OpenApiParameter("limit", int, description=f"events per page, 1–{MAX_PAGE} (default {DEFAULT_PAGE})"),
        ],
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT},
    )
    def get(self, request, code: str):
        offset, limit = _page(request)
        body = _trace_or_404(request, code, offset=offset, limit=limit).as_dict()
        after = body["events_page"]["next_offset"]
        body["events_page"]["next"] = (
            request.build_absolute_uri(f"{request.path}?{urlencode({'offset': after, 'limit': limit})}") if after is not None else None
        )
        return Response(body)


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
