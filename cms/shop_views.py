"""The shop as site pages: cart, checkout, order confirmation, my orders, my allocation.

These views present and hand over: every change goes through marketplace's services
(``cart_item_set``, ``checkout_submit``, ``order_cancel``), every read through selectors, and a
domain error (out of stock, over the balance, card payment unavailable) comes back to the
person as a message on the page — never a 500. Only users with an Employee record can shop.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import include, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import DomainError
from core.parsing import InvalidInput, local_url, parse_int
from marketplace.models import Order
from marketplace.payments.base import provider_choices
from marketplace.shopper_card import shopper_card_from_reads, shopper_card_lookup

from . import selectors

app_name = "storefront"


def _services():
    from marketplace.services import cart, checkout, orders

    return cart, checkout, orders


def _shopping_refusal(employee) -> str | None:
    """Why the employee may not shop now (marketplace's one rule), or None."""
    from marketplace.services.eligibility import shopping_refusal

    return shopping_refusal(employee)


def _may_not_shop(request, reason: str):
    return render(request, "cms/shop/may_not_shop.html", {"reason": reason}, status=403)


def _not_employee(request):
    return render(request, "cms/shop/not_employee.html", status=403)


def _safe_next(request, fallback: str) -> str:
    return local_url(request.POST.get("next") or request.GET.get("next"), request=request, default=fallback)


def _quantity(raw, default: int = 1) -> int | None:
    try:
        return parse_int(raw if raw not in (None, "") else default, min_value=0)
    except InvalidInput:
        return None


@require_http_methods(["GET", "POST"])
def cart_add(request):
    """POST from a product page's add-to-cart form (adds ``quantity`` to what the cart holds,
    or with ``set=1`` sets it — the cart page's update and remove buttons).

    A visitor not signed in is sent to sign in and comes back to a GET of this URL with the
    product and quantity, which shows a one-click confirmation (a GET never changes the cart)."""
    data = request.POST if request.method == "POST" else request.GET
    product_id = data.get("product", "")
    quantity = _quantity(data.get("quantity"))
    if not request.user.is_authenticated:
        back = f"{reverse('storefront:cart_add')}?{urlencode({'product': product_id, 'quantity': quantity or 1, 'next': _safe_next(request, '/')})}"
        return HttpResponseRedirect(f"{settings.LOGIN_URL}?{urlencode({'next': back})}")
    employee = selectors.employee_for(request.user)
    if employee is None:
        return _not_employee(request)
    cart, _checkout, _orders = _services()
    product = cart.product_for_cart(product_id)
    if product is None:
        messages.error(request, _("This product does not exist."))
        return redirect("storefront:cart")
    refusal = _shopping_refusal(employee)
    if refusal is not None:  # the same 403 and reason the API gives
        return _may_not_shop(request, refusal)
    if request.method == "GET":
        return render(request, "cms/shop/cart_add_confirm.html", {
            "product": product, "quantity": quantity if quantity and quantity > 0 else 1, "next": _safe_next(request, "/"),
        })
    back = _safe_next(request, reverse("storefront:cart"))
    if quantity is None or quantity < 0 or (quantity == 0 and not data.get("set")):
        messages.error(request, _("Enter how many units you want, as a whole number."))
        return redirect(back)
    try:
        if data.get("set"):
            cart.cart_item_set(employee=employee, product=product, quantity=quantity)
        else:
            cart.cart_item_add(employee=employee, product=product, quantity=quantity)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    if data.get("set"):
        messages.success(request, _("Your cart was updated.") if quantity else _("%(product)s was removed from your cart.") % {"product": product.name})
        return redirect("storefront:cart")
    messages.success(request, _("%(product)s × %(n)d added to your cart.") % {"product": product.name, "n": quantity})
    return redirect("storefront:cart")


@login_required
def cart_view(request):
    employee = selectors.employee_for(request.user)
    if employee is None:
        return _not_employee(request)
    cart, checkout, _orders = _services()
    card = shopper_card_lookup(employee.pk)  # before the cart and the balance are read: see _keep_card
    lines = cart.cart_get(employee=employee)
    preview = checkout.checkout_preview(employee=employee, cart=lines)
    _keep_card(request, employee, card, cart_units=lines.units, preview=preview)
    return render(request, "cms/shop/cart.html", {"cart": lines, "preview": preview})


def _keep_card(request, employee, looked_up, *, cart_units: int, preview) -> None:
    """The header's figures from this page's own reads (marketplace.shopper_card.shopper_card_from_reads)."""
    card = shopper_card_from_reads(employee, looked_up, cart_units=cart_units, balance=preview.balance, balance_year=preview.year)
    if card is not None:
        request.shopper_card = card


@login_required
@require_http_methods(["GET", "POST"])
def checkout_view(request):
    """The checkout step: totals, what the allocation pays and what is left for the card, every
    problem that would refuse the order; POST places it."""
    employee = selectors.employee_for(request.user)
    if employee is None:
        return _not_employee(request)
    cart, checkout, _orders = _services()
    error = None
    status = 200
    fulfilment = request.POST.get("fulfilment", Order.Fulfilment.PICKUP)
    if request.method == "POST":
        try:
            result = checkout.checkout_submit(
                employee=employee,
                fulfilment=fulfilment,
                success_url=request.build_absolute_uri(reverse("storefront:orders")) + "?paid=1",
                cancel_url=request.build_absolute_uri(reverse("storefront:cart")),
                payment_method=request.POST.get("payment_method") or None,
                client={"ip": request.META.get("REMOTE_ADDR") or "127.0.0.1",
                        "mobile": any(w in request.headers.get("User-Agent", "") for w in ("Mobile", "Android", "iPhone"))},
            )
        except DomainError as exc:
            error, status = exc, exc.status
        else:
            if result.payment_url:
                return HttpResponseRedirect(result.payment_url)
            messages.success(request, _("Thank you! Order %(number)s is placed and paid from your allocation.") % {"number": result.order.number})
            return redirect("storefront:order", number=result.order.number)
    card = shopper_card_lookup(employee.pk)
    lines = cart.cart_get(employee=employee)
    preview = checkout.checkout_preview(employee=employee, cart=lines)
    _keep_card(request, employee, card, cart_units=lines.units, preview=preview)
    return render(request, "cms/shop/checkout.html", {
        "preview": preview,
        "error": error,
        "fulfilment": fulfilment,
        "fulfilment_choices": Order.Fulfilment.choices,
        # someone who may not shop is told why (in the problems), not that card payment is missing
        "card_not_configured": preview.card_amount > 0 and not preview.card_available and _shopping_refusal(employee) is None,
        "employee": employee,
        "payment_choices": provider_choices(),
        "payment_method": request.POST.get("payment_method", ""),
    }, status=status)


def _orders_of(employee):
    from marketplace import selectors as marketplace_selectors

    return marketplace_selectors.order_list(employee=employee)


@login_required
def orders_view(request):
    employee = selectors.employee_for(request.user)
    if employee is None:
        return _not_employee(request)
    from marketplace.selectors import order_notices_open

    return render(request, "cms/shop/orders.html", {"orders": _orders_of(employee), "notices": order_notices_open(employee=employee)})


@login_required
@require_http_methods(["GET", "POST"])
def order_view(request, number: str):
    employee = selectors.employee_for(request.user)
    if employee is None:
        return _not_employee(request)
    order = selectors.order_of(employee=employee, number=number)
    if order is None:
        raise Http404
    _cart, _checkout, orders = _services()
    cancellable = orders.order_may_transition(order=order, to=Order.Status.CANCELLED, actor=request.user)
    return render(request, "cms/shop/order.html", {"order": order, "cancellable": cancellable})


@login_required
@require_POST
def order_cancel_view(request, number: str):
    employee = selectors.employee_for(request.user)
    if employee is None:
        return _not_employee(request)
    order = selectors.order_of(employee=employee, number=number)
    if order is None:
        raise Http404
    _cart, _checkout, orders = _services()
    try:
        orders.order_cancel(order=order, actor=request.user, reason=request.POST.get("reason") or "")
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Order %(number)s is cancelled; what you paid is on its way back.") % {"number": order.number})
    return redirect("storefront:order", number=order.number)


@login_required
def allocation_view(request):
    employee = selectors.employee_for(request.user)
    if employee is None:
        return _not_employee(request)
    year = selectors.current_year()
    return render(request, "cms/shop/allocation.html", {
        "employee": employee, "year": year, "summary": selectors.allocation_for(employee, year=year),
        "refusal": _shopping_refusal(employee),
    })


@require_http_methods(["GET", "POST"])
@login_required
def allocation_pass_view(request):
    """A one-time QR code for the counter: the cashier scans it to spend this allocation once
    (valid 2 minutes). A POST asks for a new code (each on purpose), then the page shows the
    employee's live one; without one it goes back to 我的额度."""
    import segno
    from django.utils import timezone

    from marketplace.models import AllocationPass
    from marketplace.services.counter import allocation_pass_issue

    employee = selectors.employee_for(request.user)
    if employee is None:
        return _not_employee(request)
    if request.method == "POST":
        try:
            allocation_pass_issue(employee=employee)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("storefront:allocation")
        return redirect("storefront:allocation_pass")
    issued = (
        AllocationPass.objects.filter(employee=employee, kind=AllocationPass.Kind.QR, used_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("-id").first()
    )
    if issued is None:
        return redirect("storefront:allocation")
    qr_svg = segno.make(issued.token, error="m").svg_inline(scale=6, border=2)
    year = selectors.current_year()
    return render(request, "cms/shop/allocation_pass.html", {
        "pass": issued, "qr_svg": qr_svg, "summary": selectors.allocation_for(employee, year=year), "year": year,
        "seconds": max(0, int((issued.expires_at - timezone.now()).total_seconds())),
    })


shop_patterns = [
    path("cart/", cart_view, name="cart"),
    path("cart/add/", cart_add, name="cart_add"),
    path("checkout/", checkout_view, name="checkout"),
    path("orders/", orders_view, name="orders"),
    path("orders/<str:number>/", order_view, name="order"),
    path("orders/<str:number>/cancel/", order_cancel_view, name="order_cancel"),
    path("allocation/", allocation_view, name="allocation"),
    path("allocation/pass/", allocation_pass_view, name="allocation_pass"),
]

urlpatterns = [path("", include((shop_patterns, app_name)))]
