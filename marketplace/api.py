"""The shop's JSON API for a phone app or mini-program (token or session auth), under /api/v1/.

Views call the selectors and services; they never write a model themselves. An employee sees
only their own cart, orders and ledger (someone else's order is a 404). Prices and amounts in
request bodies are ignored: the server prices every line.
"""

from __future__ import annotations

from django.db import router
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.authentication import TokenScheme
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, generics, serializers, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import validated_input
from core.errors import NotAllowed
from core.one_row import one_row_statement

from . import selectors
from .filters import OrderFilter, ProductFilter
from .models import AllocationEntry, Employee, Order, Payment
from .payments.base import REGISTRY as PAYMENT_REGISTRY
from .services.cart import CartView, cart_get, cart_item_remove, cart_item_set
from .services.checkout import checkout_preview, checkout_submit
from .services.orders import order_cancel

# --- serializers ----------------------------------------------------------------------------------


class ProductSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    available = serializers.IntegerField(help_text="units on sale now")
    produce = serializers.CharField(source="sku.produce.code")
    category = serializers.CharField(source="sku.produce.category")
    unit_weight_kg = serializers.DecimalField(source="sku.unit_weight_kg", max_digits=8, decimal_places=3)
    max_per_order = serializers.IntegerField(allow_null=True)


class CartLineSerializer(serializers.Serializer):
    product = serializers.IntegerField(source="product.pk")
    name = serializers.CharField(source="product.name")
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2)
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2)


class CartSerializer(serializers.Serializer):
    items = CartLineSerializer(many=True, source="lines")
    units = serializers.IntegerField()
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    allocation_amount = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="paid from the allocation at checkout")
    card_amount = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="the excess, paid by card")
    card_available = serializers.BooleanField()
    problems = serializers.ListField(child=serializers.CharField(), help_text="what would stop checkout now")


class CartItemInputSerializer(serializers.Serializer):
    product = serializers.IntegerField()
    quantity = serializers.IntegerField(min_value=0, max_value=1000)


class CheckoutInputSerializer(serializers.Serializer):
    fulfilment = serializers.ChoiceField(choices=Order.Fulfilment.choices, default=Order.Fulfilment.PICKUP, required=False)
    payment_method = serializers.ChoiceField(
        choices=[(name, spec.label) for name, spec in PAYMENT_REGISTRY.items()], required=False, allow_null=True,
        help_text=(
            "Who takes the part the allocation does not cover: stripe (card), wechat (WeChat Pay: H5, or JSAPI inside "
            "WeChat with wechat_openid), alipay (Alipay: mobile web or PC page). Default: the only configured provider; "
            "a provider that is not configured is refused with 400, and with several configured one must be chosen "
            "when there is something to pay."
        ),
    )
    wechat_openid = serializers.CharField(
        required=False, allow_blank=True, max_length=128,
        help_text="The payer's openid inside WeChat: WeChat Pay then uses JSAPI and the answer carries payment_params.",
    )


class OrderLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product = serializers.IntegerField(source="product_id")
    name = serializers.CharField(source="product.name")
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2)
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2)


# what get_status_display() reads, as a dict made once: Django builds it from the field's choices on every call
_STATUS_LABELS = dict(Order.Status.choices)


class OrderSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=Order.Status.choices)
    status_display = serializers.CharField(source="get_status_display")
    fulfilment = serializers.ChoiceField(choices=Order.Fulfilment.choices)
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    allocation_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    card_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    payment_url = serializers.SerializerMethodField()
    payment_method = serializers.SerializerMethodField()
    payment_params = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    lines = OrderLineSerializer(many=True)

    def to_representation(self, order: Order) -> dict:
        """The same answer as DRF's field-by-field walk (``tests/marketplace/test_order_answer.py``
        compares the two for every kind of order), each value formatted by the declared field itself,
        without building the fields for every answer: DRF deep-copies the 19 declared fields per
        serializer and per line, a tenth of a checkout's CPU. The declared fields stay what the
        schema is built from; a field added above and not here fails that test."""
        fields, line_fields = self._declared_fields, OrderLineSerializer._declared_fields
        money, line_money, when = fields["total"], line_fields["unit_price"], fields["created_at"]
        return {
            "number": fields["number"].to_representation(order.number),
            "status": fields["status"].to_representation(order.status),
            "status_display": fields["status_display"].to_representation(str(_STATUS_LABELS.get(order.status, order.status))),
            "fulfilment": fields["fulfilment"].to_representation(order.fulfilment),
            "total": money.to_representation(order.total),
            "allocation_amount": money.to_representation(order.allocation_amount),
            "card_amount": money.to_representation(order.card_amount),
            "payment_url": self.get_payment_url(order),
            "payment_method": self.get_payment_method(order),
            "payment_params": self.get_payment_params(order),
            "created_at": when.to_representation(order.created_at),
            "paid_at": when.to_representation(order.paid_at),
            "lines": [
                {
                    "id": line.id,
                    "product": line.product_id,
                    "name": line_fields["name"].to_representation(line.product.name),
                    "quantity": line.quantity,
                    "unit_price": line_money.to_representation(line.unit_price),
                    "line_total": line_fields["line_total"].to_representation(line.line_total),
                }
                for line in (order.written_lines if hasattr(order, "written_lines") else order.lines.all())
            ],
        }

    def get_payment_url(self, order: Order) -> str | None:
        """Where to pay the card part, while it is due."""
        if order.status != Order.Status.PENDING_PAYMENT or order.card_amount <= 0:
            return None
        url = self.context.get("payment_url")
        if url:
            return url
        try:
            payment = order.payment
        except Payment.DoesNotExist:
            return None
        return payment.payment_url or None if payment.status == Payment.Status.PENDING else None

    def get_payment_method(self, order: Order) -> str | None:
        """The provider that takes (or took) the card/online part: stripe, wechat or alipay."""
        try:
            return order.payment.provider
        except Payment.DoesNotExist:
            return None

    def get_payment_params(self, order: Order) -> dict | None:
        """WeChat JSAPI only, right after checkout: the signed parameters for WeixinJSBridge's getBrandWCPayRequest."""
        return self.context.get("payment_params") or None


class AllocationEntrySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AllocationEntry.Kind.choices)
    kind_display = serializers.CharField(source="get_kind_display")
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    balance_after = serializers.DecimalField(max_digits=10, decimal_places=2)
    order_number = serializers.CharField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class AllocationSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    granted = serializers.DecimalField(max_digits=12, decimal_places=2)
    spent = serializers.DecimalField(max_digits=12, decimal_places=2)
    refunded = serializers.DecimalField(max_digits=12, decimal_places=2)
    expired = serializers.DecimalField(max_digits=12, decimal_places=2)
    carried_in = serializers.DecimalField(max_digits=12, decimal_places=2)
    balance = serializers.DecimalField(max_digits=12, decimal_places=2)
    entries = AllocationEntrySerializer(many=True)


ErrorSerializer = inline_serializer(
    "ShopError", {"detail": serializers.CharField(), "code": serializers.CharField(), "problems": serializers.ListField(child=serializers.CharField(), required=False)}
)

# --- helpers --------------------------------------------------------------------------------------


class EmployeeTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, reading the user's employee (and employer) in the same query as
    the token: every shop view needs them, and a second query cost as much as the lookup itself."""

    def authenticate_credentials(self, key):
        model = self.get_model()
        # compiled once (core.one_row.OneRowStatement): the ORM compiling this join on every
        # request cost more than running it
        token = one_row_statement(model, ("user__employee__employer",), router.db_for_read(model)).get(key)
        if token is None or token.user is None:
            raise exceptions.AuthenticationFailed(gettext_lazy("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(gettext_lazy("User inactive or deleted."))
        user = token.user
        try:
            user._api_employee = user.employee
        except Employee.DoesNotExist:
            user._api_employee = None
        return (user, token)


class EmployeeTokenScheme(TokenScheme):
    """The OpenAPI description of the shop's token authentication: DRF's token header, under a
    name of its own (the schema may not give one name to two authentication classes)."""

    target_class = EmployeeTokenAuthentication
    name = "employeeTokenAuth"
    match_subclasses = False
    priority = 1  # before drf-spectacular's own TokenScheme, which matches subclasses too


class IsEmployee(BasePermission):
    message = gettext_lazy("Only employees have a cart, orders and an allocation.")

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and _employee_or_none(request.user))


SHOP_AUTHENTICATION = [SessionAuthentication, EmployeeTokenAuthentication]


def _employee_or_none(user) -> Employee | None:
    # with the employer in the same query: the shopping rule reads it on every cart and checkout
    cached = getattr(user, "_api_employee", False)
    if cached is False:
        cached = user._api_employee = Employee.objects.select_related("employer").filter(user_id=user.pk).first()
    return cached


def _employee(request: Request) -> Employee:
    employee = _employee_or_none(request.user)
    if employee is None:
        raise NotAllowed(_("Only employees have a cart, orders and an allocation."))
    return employee


def _cart_data(cart: CartView, employee: Employee) -> dict:
    preview = checkout_preview(employee=employee, cart=cart)
    return CartSerializer(
        {
            "lines": cart.lines, "units": cart.units, "total": cart.total, "allocation_amount": preview.allocation_amount,
            "card_amount": preview.card_amount, "card_available": preview.card_available, "problems": preview.problems,
        }
    ).data


# --- views ----------------------------------------------------------------------------------------


class ProductListApi(generics.ListAPIView):
    """Products on sale with the units available now; filter by produce, category, stock, price."""

    serializer_class = ProductSerializer
    filterset_class = ProductFilter

    def get_queryset(self):
        return selectors.product_list()


class CartApi(APIView):
    authentication_classes = SHOP_AUTHENTICATION
    permission_classes = [IsEmployee]

    @extend_schema(responses=CartSerializer, summary="The cart, priced now, with the checkout split and problems")
    def get(self, request: Request) -> Response:
        employee = _employee(request)
        return Response(_cart_data(cart_get(employee=employee), employee))


class CartItemsApi(APIView):
    authentication_classes = SHOP_AUTHENTICATION
    permission_classes = [IsEmployee]

    @extend_schema(
        request=CartItemInputSerializer,
        responses={200: CartSerializer, 400: ErrorSerializer, 403: OpenApiResponse(ErrorSerializer, description="may not shop now")},
        summary="Set how many of a product the cart holds (0 removes it); any price sent is ignored",
    )
    def post(self, request: Request) -> Response:
        employee = _employee(request)
        data = validated_input(CartItemInputSerializer, request.data)
        cart = cart_item_set(employee=employee, product=data["product"], quantity=data["quantity"])
        return Response(_cart_data(cart, employee))


class CartItemApi(APIView):
    authentication_classes = SHOP_AUTHENTICATION
    permission_classes = [IsEmployee]

    @extend_schema(responses={200: CartSerializer}, summary="Remove a product from the cart")
    def delete(self, request: Request, product_id: int) -> Response:
        employee = _employee(request)
        return Response(_cart_data(cart_item_remove(employee=employee, product=product_id), employee))


def _client_of(request: Request, wechat_openid: str = "") -> dict:
    """What the providers need to know of the paying device: its address (WeChat H5), whether
    it is a phone (Alipay WAP or PC page) and, inside WeChat, the payer's openid (JSAPI)."""
    agent = request.headers.get("User-Agent", "")
    return {
        "ip": request.META.get("REMOTE_ADDR") or "127.0.0.1",
        "mobile": any(word in agent for word in ("Mobile", "Android", "iPhone", "MicroMessenger")),
        "wechat_openid": wechat_openid,
    }


class CheckoutApi(APIView):
    authentication_classes = SHOP_AUTHENTICATION
    permission_classes = [IsEmployee]

    @extend_schema(
        request=CheckoutInputSerializer,
        responses={
            201: OrderSerializer,
            403: OpenApiResponse(ErrorSerializer, description="may not shop now (inactive, employer not taking part, outside the window)"),
            400: OpenApiResponse(ErrorSerializer, description="bad input, or the payment_method is not configured (or must be chosen)"),
            409: OpenApiResponse(ErrorSerializer, description="stock or balance short, or the cart is empty"),
            502: OpenApiResponse(ErrorSerializer, description="the payment provider failed; nothing is reserved"),
        },
        summary="Check the cart out: allocation first, the excess by card (payment_url)",
    )
    def post(self, request: Request) -> Response:
        employee = _employee(request)
        data = validated_input(CheckoutInputSerializer, request.data)
        result = checkout_submit(
            employee=employee,
            fulfilment=data.get("fulfilment") or Order.Fulfilment.PICKUP,
            success_url=request.build_absolute_uri("/orders/?payment=success"),
            cancel_url=request.build_absolute_uri("/orders/?payment=cancelled"),
            payment_method=data.get("payment_method") or None,
            client=_client_of(request, data.get("wechat_openid") or ""),
        )
        context = {"payment_url": result.payment_url, "payment_params": result.payment_params}
        return Response(OrderSerializer(result.order, context=context).data, status=status.HTTP_201_CREATED)


class OrderListApi(generics.ListAPIView):
    authentication_classes = SHOP_AUTHENTICATION
    permission_classes = [IsEmployee]
    serializer_class = OrderSerializer
    filterset_class = OrderFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        return selectors.order_list(employee=_employee(self.request))


def _own_order(request: Request, number: str) -> Order:
    try:
        return selectors.order_get(number=number, employee=_employee(request))
    except Order.DoesNotExist:
        raise Http404 from None


class OrderDetailApi(APIView):
    authentication_classes = SHOP_AUTHENTICATION
    permission_classes = [IsEmployee]

    @extend_schema(responses={200: OrderSerializer}, summary="One of my orders")
    def get(self, request: Request, number: str) -> Response:
        return Response(OrderSerializer(_own_order(request, number)).data)


class OrderCancelApi(APIView):
    authentication_classes = SHOP_AUTHENTICATION
    permission_classes = [IsEmployee]

    @extend_schema(
        request=None, responses={200: OrderSerializer, 409: ErrorSerializer},
        summary="Cancel my order before the supermarket starts picking it",
    )
    def post(self, request: Request, number: str) -> Response:
        order = _own_order(request, number)
        order_cancel(order=order, actor=request.user)  # the status machine decides, as for the storefront
        return Response(OrderSerializer(_own_order(request, number)).data)


class MyAllocationApi(APIView):
    authentication_classes = SHOP_AUTHENTICATION
    permission_classes = [IsEmployee]

    @extend_schema(responses=AllocationSerializer, summary="My allocation this year and its ledger")
    def get(self, request: Request) -> Response:
        summary = selectors.allocation_summary(employee=_employee(request))
        return Response(AllocationSerializer(summary).data)
