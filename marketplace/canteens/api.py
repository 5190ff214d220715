"""``GET /api/v1/canteens/progress/?year=``: each canteen's purchases against its reserved share
(county office: every canteen; a canteen buyer: its own; anyone else 403). Money as strings to the fen."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import roles
from core.parsing import query_int
from logistics.selectors.stock import county_today

from .access import canteen_of
from .selectors import canteen_progress, canteens_for_progress


class ProgressSerializer(serializers.Serializer):
    canteen = serializers.CharField(source="canteen_name")
    canteen_code = serializers.CharField(source="canteen.code")
    employer = serializers.CharField(source="employer_name")
    year = serializers.IntegerField()
    budget = serializers.DecimalField(max_digits=12, decimal_places=2)
    reserved_share = serializers.DecimalField(max_digits=5, decimal_places=2, help_text="percent of the budget")
    required = serializers.DecimalField(max_digits=12, decimal_places=2)
    purchased = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="every delivery of the year, paid or not")
    paid = serializers.DecimalField(max_digits=12, decimal_places=2)
    unpaid = serializers.DecimalField(max_digits=12, decimal_places=2)
    share_of_budget = serializers.DecimalField(max_digits=7, decimal_places=2, help_text="purchased as a percent of the budget")
    rank = serializers.IntegerField()


class IsCountyOrCanteenBuyer(BasePermission):
    message = gettext_lazy("Only the county office and canteen buyers see canteen progress.")

    def has_permission(self, request, view) -> bool:
        return roles.is_county_office(request.user) or canteen_of(request.user) is not None


class CanteenProgressApi(APIView):
    permission_classes = [IsCountyOrCanteenBuyer]

    @extend_schema(
        parameters=[OpenApiParameter("year", OpenApiTypes.INT, description="calendar year (default: this year)")],
        responses=ProgressSerializer(many=True), summary="Canteens' purchases against their reserved share, year to date",
    )
    def get(self, request: Request) -> Response:
        year = query_int(request.query_params, "year", default=county_today().year, min_value=2000, max_value=2100)
        rows = canteen_progress(canteens=canteens_for_progress(request.user), year=year)
        return Response(ProgressSerializer(rows, many=True).data)


urlpatterns = [path("canteens/progress/", CanteenProgressApi.as_view(), name="api-canteen-progress")]
