"""``GET /api/v1/personal-data-access/``: the personal-data access log, newest first (county
office only; everyone else 403, anonymous 401/403)."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.permissions import BasePermission

from .models import PersonalDataAccess
from .personal_data import InvalidFilters, PersonalDataAccessFilterSet, personal_data_access_list
from .roles import is_county_office


class IsCountyOffice(BasePermission):
    message = gettext_lazy("Only the county office reads the personal-data access log.")

    def has_permission(self, request, view) -> bool:
        return is_county_office(request.user)


class PersonalDataAccessSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="username", help_text=gettext_lazy("Username of who was shown the data."))
    households = serializers.ListField(child=serializers.CharField(), help_text=gettext_lazy("Registry numbers of the households shown."))
    employees = serializers.ListField(
        child=serializers.CharField(), help_text=gettext_lazy("Employer code / staff number of the employees shown.")
    )
    filters = serializers.DictField(help_text=gettext_lazy("The filter of a listing or export, as its query parameters."))

    class Meta:
        model = PersonalDataAccess
        fields = ["at", "user", "action", "households", "employees", "rows", "filters", "path", "ip"]


class _SelectorFilterBackend(DjangoFilterBackend):
    """Documents the FilterSet's parameters in the schema; the selector has applied them."""

    def filter_queryset(self, request, queryset, view):
        return queryset


class PersonalDataAccessListAPI(ListAPIView):
    permission_classes = [IsCountyOffice]
    serializer_class = PersonalDataAccessSerializer
    filterset_class = PersonalDataAccessFilterSet
    filter_backends = [_SelectorFilterBackend]
    queryset = PersonalDataAccess.objects.none()

    def get_queryset(self):
        try:
            return personal_data_access_list(filters=self.request.query_params)
        except InvalidFilters as exc:
            raise ValidationError(exc.errors) from None

    @extend_schema(
        summary="The personal-data access log (个人信息查阅记录)",
        description="Every showing of an unmasked ID number, phone or payout account: who (`user`), when (`at`), how "
        "(`action`: view, export, pdf, api), whose (`households`: registry numbers; `employees`), how many rows, newest "
        "first. Filters: `user` (user id), `action`, `date_from`/`date_to` (YYYY-MM-DD, Beijing time), `household`. "
        "County office only.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


urlpatterns = [
    path("personal-data-access/", PersonalDataAccessListAPI.as_view(), name="api-personal-data-access"),
]
