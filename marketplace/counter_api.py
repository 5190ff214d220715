"""The counter's JSON API (门店收银), under /api/v1/counter/: a sale, and the texted allocation code;
and the employee's one-time QR pass under /api/v1/me/. Views parse, call the counter service and
answer; the service decides (marketplace/services/counter.py)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .access import supermarket_of
from .api import ErrorSerializer, IsEmployee, _employee
from .models import CounterSale
from .services.counter import allocation_code_send, allocation_pass_issue, counter_request_parse, counter_sale_submit


class IsCashier(BasePermission):
    message = gettext_lazy("Only the supermarket's staff sell at the counter.")

    def has_permission(self, request, view) -> bool:
        return supermarket_of(request.user) is not None


class CounterLineInput(serializers.Serializer):
    product = serializers.IntegerField(required=False, allow_null=True, help_text="a product id (units leave FEFO)")
    batch = serializers.CharField(required=False, allow_blank=True, help_text="a batch code from its QR label")
    quantity = serializers.IntegerField()


class CounterSaleInput(serializers.Serializer):
    client_id = serializers.CharField(help_text="made by the counter screen once per sale; a retry sends it again")
    lines = CounterLineInput(many=True)
    allocation_token = serializers.CharField(required=False, allow_blank=True, help_text="the employee's one-time QR pass")
    phone = serializers.CharField(required=False, allow_blank=True, help_text="or: the employee's phone …")
    sms_code = serializers.CharField(required=False, allow_blank=True, help_text="… and the code texted to it")
    cash = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, help_text="cash handed over")


class CounterSaleBatch(serializers.Serializer):
    batch = serializers.CharField()
    units = serializers.IntegerField()


class CounterSaleLine(serializers.Serializer):
    product = serializers.IntegerField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2)
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    batches = CounterSaleBatch(many=True)


class CounterSaleOutput(serializers.Serializer):
    number = serializers.CharField()
    client_id = serializers.CharField()
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    allocation_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    cash_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    cash_tendered = serializers.DecimalField(max_digits=12, decimal_places=2)
    change = serializers.DecimalField(max_digits=12, decimal_places=2)
    paid_at = serializers.DateTimeField()
    lines = CounterSaleLine(many=True)
    receipt_url = serializers.CharField()


def counter_sale_data(sale: CounterSale) -> dict:
    order = sale.order
    lines = []
    for line in order.lines.select_related("product").prefetch_related("allocations__batch").order_by("id"):
        lines.append({
            "product": line.product_id, "name": line.product.name, "quantity": line.quantity, "unit_price": line.unit_price,
            "line_total": line.line_total,
            "batches": [{"batch": a.batch.code, "units": a.units} for a in line.allocations.all()],
        })
    return CounterSaleOutput({
        "number": order.number, "client_id": sale.client_id, "total": order.total, "allocation_amount": order.allocation_amount,
        "cash_amount": order.offline_amount, "cash_tendered": sale.cash_tendered, "change": sale.change, "paid_at": order.paid_at,
        "lines": lines, "receipt_url": reverse("counter_receipt", args=[order.number]),
    }).data


class CounterSaleApi(APIView):
    permission_classes = [IsCashier]

    @extend_schema(
        request=CounterSaleInput,
        responses={
            201: CounterSaleOutput,
            200: OpenApiResponse(CounterSaleOutput, description="this client_id's sale, made before"),
            400: OpenApiResponse(ErrorSerializer, description="a line, the cash or the code cannot be read"),
            403: OpenApiResponse(ErrorSerializer, description="not the supermarket's staff"),
            409: OpenApiResponse(
                ErrorSerializer,
                description="stock short (each line named), allocation code used/expired/wrong, cash short, or the client_id "
                "was used for another sale",
            ),
        },
        summary="Sell at the supermarket counter: allocation (one-time QR or texted code) first, the rest in cash",
    )
    def post(self, request: Request) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        parsed = counter_request_parse(
            client_id=data.get("client_id"), lines=data.get("lines"), cash=data.get("cash"),
            allocation_token=data.get("allocation_token"), phone=data.get("phone"), sms_code=data.get("sms_code"),
        )
        result = counter_sale_submit(cashier=request.user, request=parsed)
        return Response(counter_sale_data(result.sale), status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class AllocationCodeApi(APIView):
    permission_classes = [IsCashier]

    @extend_schema(
        request=inline_serializer("CounterCodeInput", {"phone": serializers.CharField()}),
        responses={
            202: inline_serializer("CounterCodeSent", {"phone": serializers.CharField(), "expires_at": serializers.DateTimeField()}),
            400: ErrorSerializer, 403: ErrorSerializer, 409: ErrorSerializer,
        },
        summary="Text a one-time code to the employee with this phone, to pay from their allocation at the counter",
    )
    def post(self, request: Request) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        issued = allocation_code_send(cashier=request.user, phone=data.get("phone") or "")
        return Response({"phone": issued.employee.phone, "expires_at": issued.expires_at}, status=status.HTTP_202_ACCEPTED)


class MyAllocationPassApi(APIView):
    permission_classes = [IsEmployee]

    @extend_schema(
        request=None,
        responses={
            201: inline_serializer("AllocationPass", {"token": serializers.CharField(), "expires_at": serializers.DateTimeField()}),
            403: ErrorSerializer,
        },
        summary="A one-time code (shown as a QR) that lets the counter spend my allocation once, valid 2 minutes",
    )
    def post(self, request: Request) -> Response:
        issued = allocation_pass_issue(employee=_employee(request))
        return Response({"token": issued.token, "expires_at": issued.expires_at}, status=status.HTTP_201_CREATED)
