"""The counter screens (门店收银) for supermarket staff, phone or tablet first: the sale screen
(scan a batch label or pick a product, take the allocation and cash — it posts to
``/api/v1/counter/sales/``), the printable receipt, and the day's report with its Excel export and
the cash-up. Returns are the order page's (``staff_order``), which gives cash back first."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.parsing import InvalidInput, query_date
from logistics.selectors.stock import sellable_stock

from .access import orders_visible_to, supermarket_of
from .counter_report import counter_day_report, counter_day_xlsx
from .models import CounterSale, Order
from .selectors import product_list
from .services.counter import till_count_record
from .staff_views import supermarket_staff_required


def cashier_required(view):
    """Supermarket staff at the supermarket (the county office watches the report, it does not sell)."""
    inner = supermarket_staff_required(view)

    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated and supermarket_of(request.user) is None:
            raise PermissionDenied
        return inner(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    return wrapper


@cashier_required
def counter_page(request):
    products = [
        {"id": p.pk, "name": p.name, "price": str(p.price), "available": p.available}
        for p in product_list() if p.available
    ]
    by_sku = {p.sku_id: p for p in product_list()}
    batches = {}
    for row in sellable_stock().select_related("batch")[:2000]:
        product = by_sku.get(row.batch.sku_id)
        if product is not None:
            batches[row.batch.code] = {"product": product.pk, "available": row.quantity - row.reserved}
    return render(request, "marketplace/counter/sale.html", {
        "products": products, "batches": batches, "api_url": reverse("api-counter-sales"),
        "code_url": reverse("api-counter-allocation-codes"),
    })


def _sale_or_404(request, number: str) -> CounterSale:
    order = orders_visible_to(request.user).filter(number=number, channel=Order.Channel.COUNTER).first()
    sale = CounterSale.objects.select_related("order", "order__employee", "cashier").filter(order=order).first() if order else None
    if sale is None:
        raise Http404
    return sale


@supermarket_staff_required
def receipt_page(request, number: str):
    sale = _sale_or_404(request, number)
    lines = list(sale.order.lines.select_related("product").prefetch_related("allocations__batch").order_by("id"))
    return render(request, "marketplace/counter/receipt.html", {"sale": sale, "order": sale.order, "lines": lines})


class _BadDay(Exception):
    pass


def _day(request):
    try:
        return query_date(request.GET, "day", default=timezone.localdate())
    except InvalidInput as exc:
        raise _BadDay(exc.message) from exc


@supermarket_staff_required
def report_page(request):
    try:
        day = _day(request)
    except _BadDay as exc:
        return render(request, "marketplace/counter/report.html", {"error": str(exc), "day": timezone.localdate()}, status=400)
    return render(request, "marketplace/counter/report.html", {
        "day": day, "report": counter_day_report(day=day), "may_count": supermarket_of(request.user) is not None,
    })


@supermarket_staff_required
def report_export(request):
    try:
        day = _day(request)
    except _BadDay as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(
        counter_day_xlsx(counter_day_report(day=day)), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="counter-{day.isoformat()}.xlsx"'
    return response


@require_POST
@cashier_required
def till_count_view(request):
    try:
        day = query_date(request.POST, "day", default=timezone.localdate())
        count = till_count_record(day=day, counted=request.POST.get("counted"), note=request.POST.get("note", ""), author=request.user)
    except DomainError as exc:
        report_day = timezone.localdate()
        return render(request, "marketplace/counter/report.html", {
            "day": report_day, "report": counter_day_report(day=report_day), "may_count": True, "count_error": exc.message,
            "counted": request.POST.get("counted", ""), "note": request.POST.get("note", ""),
        }, status=400)
    messages.success(request, _("Cash-up recorded: counted %(counted)s, expected %(expected)s, difference %(difference)s.") % {
        "counted": count.counted, "expected": count.expected, "difference": count.difference,
    })
    return redirect(f"{reverse('counter_report')}?day={day.isoformat()}")


urlpatterns = [
    path("counter/", counter_page, name="counter"),
    path("counter/sales/<str:number>/receipt/", receipt_page, name="counter_receipt"),
    path("counter/report/", report_page, name="counter_report"),
    path("counter/report/export/", report_export, name="counter_report_export"),
    path("counter/report/till/", till_count_view, name="counter_till_count"),
]
