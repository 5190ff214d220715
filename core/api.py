"""Shared pieces of the JSON API."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.fields import SkipField, empty
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


def validated_input(serializer_class, data) -> dict:
    """``serializer_class(data=data)``'s ``validated_data``, a 400 as ``is_valid(raise_exception=True)``
    gives for input it refuses.

    A flat input serializer (plain fields, no ``validate`` of its own) given a JSON object that it
    accepts is answered by its declared fields themselves, each validating its own value: DRF
    deep-copies (re-instantiates) every declared field for every serializer it makes, which cost
    more than the checking (a twentieth of a checkout's CPU). Anything else, and every refusal,
    goes through the serializer, so the errors are DRF's own. ``tests/core/test_validated_input.py``
    holds the two to the same answer."""
    if type(data) is dict and _flat(serializer_class):
        found = _accepted(serializer_class._declared_fields, data)
        if found is not None:
            return found
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


_FLAT: dict = {}


def _flat(serializer_class) -> bool:
    """Whether the serializer's answer is only its fields' own: no nested serializer, no source of
    another name, no read-only, hidden or context-dependent field, no validate or validate_<field>
    method and no serializer-level validators."""
    flat = _FLAT.get(serializer_class)
    if flat is None:
        fields = serializer_class._declared_fields
        flat = _FLAT[serializer_class] = (
            serializer_class.validate is serializers.Serializer.validate
            and serializer_class.to_internal_value is serializers.Serializer.to_internal_value
            and serializer_class.run_validation is serializers.Serializer.run_validation
            and not getattr(getattr(serializer_class, "Meta", None), "validators", None)
            and all(
                not isinstance(field, serializers.BaseSerializer | serializers.HiddenField)
                and not field.read_only
                and field.source is None
                and (field.default is empty or not callable(field.default))
                and not hasattr(serializer_class, f"validate_{name}")
                for name, field in fields.items()
            )
        )
    return flat


def _accepted(fields: dict, data: dict) -> dict | None:
    """The validated values, in the fields' order, or None when any field refuses its value or a
    required one is missing (the serializer then says why)."""
    out = {}
    for name, field in fields.items():
        value = data.get(name, empty)
        if value is empty:
            if field.required:
                return None
            if field.default is empty:
                continue
            out[name] = field.default
            continue
        try:
            out[name] = field.run_validation(value)
        except (ValidationError, DjangoValidationError, SkipField):
            return None
    return out
