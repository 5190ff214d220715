"""``GET /api/v1/households/<number>/income/`` (county office only): totals by kind and by month."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from core.roles import is_county_office

from ..access import households_visible_to
from . import selectors


class IsCountyOffice(BasePermission):
    message = "Only the county office sees household income."

    def has_permission(self, request, view) -> bool:
        return is_county_office(request.user)


class KindTotalsSerializer(serializers.Serializer):
    intake = serializers.DecimalField(max_digits=14, decimal_places=2)
    sales = serializers.DecimalField(max_digits=14, decimal_places=2)
    dividend = serializers.DecimalField(max_digits=14, decimal_places=2)
    total = serializers.DecimalField(max_digits=14, decimal_places=2)


class MonthTotalsSerializer(KindTotalsSerializer):
    month = serializers.SerializerMethodField()

    def get_month(self, row) -> str:
        return row["month"].strftime("%Y-%m")


class HouseholdIncomeSerializer(serializers.Serializer):
    number = serializers.CharField()
    totals = KindTotalsSerializer()
    by_month = MonthTotalsSerializer(many=True)


class HouseholdIncomeAPI(APIView):
    permission_classes = [IsCountyOffice]

    @extend_schema(responses=HouseholdIncomeSerializer, summary="A household's income: totals by kind and by month")
    def get(self, request, number: str):
        household = get_object_or_404(households_visible_to(request.user), number=number)
        summary = selectors.household_income_summary(household=household)
        return Response(HouseholdIncomeSerializer({"number": household.number, **summary}).data)
