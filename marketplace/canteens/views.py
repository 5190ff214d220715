"""Canteen pages (phone first):

``/canteen/``                              a canteen buyer's home: progress, a new order, orders, invoices
``/canteen/orders/<number>/``              an order: lines, what is delivered, deliveries; the supplier delivers here
``/canteen/deliveries/<number>/note.pdf``  a delivery note (送货单)
``/canteen/supply/``                       a station's or the supermarket's canteen orders to deliver
``/canteen/invoices/``                     invoices, unpaid first; the supermarket enters fapiao numbers and transfers
``/canteen/invoices/<number>/``            POST: the fapiao number or the bank transfer of one invoice
``/canteen/progress/``                     county office: every canteen and employer ranked, budgets; ``?format=xlsx``

Every object comes through the scopes of marketplace/canteens/access.py (404 outside them).
"""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods

from core import roles
from core.errors import DomainError
from core.form_errors import FormErrors
from core.parsing import query_int
from core.pdf_table import table_pdf
from logistics.models import BatchStock, Facility
from logistics.selectors.stock import county_today
from marketplace.models import Product

from .access import (
    canteen_deliveries_visible_to,
    canteen_invoices_visible_to,
    canteen_of,
    canteen_orders_visible_to,
    canteens_visible_to,
    may_record_payments,
    supplier_of,
)
from .models import Canteen, CanteenInvoice, CanteenOrder
from .selectors import canteen_progress, employer_progress
from .services import (
    canteen_budget_set,
    canteen_delivery_record,
    canteen_invoice_fapiao,
    canteen_invoice_paid,
    canteen_order_place,
    delivered_units,
    outstanding_units,
)

FORM_LINES = 4


def _suppliers():
    return Facility.objects.filter(active=True).exclude(kind=Facility.Kind.COLLECTION_POINT).order_by("-kind", "code")


def _order_field(key: str) -> str | None:
    kind, _sep, rest = key.partition(":")
    if kind == "line" and rest.isdigit():
        return f"quantity-{rest}"
    return key if key in ("supplier", "delivery_date", "note") else None


@login_required
@require_http_methods(["GET", "POST"])
def canteen_home(request):
    canteen = canteen_of(request.user)
    if canteen is None:
        raise PermissionDenied
    errors = FormErrors()
    posted = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        lines = []
        for i in range(FORM_LINES):
            product, batch, qty = posted.get(f"product-{i}", ""), posted.get(f"batch-{i}", "").strip(), posted.get(f"quantity-{i}", "").strip()
            if product or batch or qty:
                lines.append({"product": product, "batch": batch, "unit": posted.get(f"unit-{i}", "units"), "quantity": qty})
        supplier = _suppliers().filter(code=posted.get("supplier", "")).first()
        try:
            order = canteen_order_place(canteen=canteen, author=request.user, supplier=supplier, delivery_date=posted.get("delivery_date", ""),
                                        lines=lines, note=posted.get("note", ""))
        except DomainError as exc:
            errors.add_domain_error(exc, field_for_key=_order_field)
        else:
            messages.success(request, _("Order %(number)s placed.") % {"number": order.number})
            return HttpResponseRedirect(reverse("canteen-order", args=[order.number]))
    year = county_today().year
    [progress] = canteen_progress(canteens=Canteen.objects.filter(pk=canteen.pk), year=year)
    form_lines = [{"i": i, "product": posted.get(f"product-{i}", ""), "batch": posted.get(f"batch-{i}", ""),
                   "unit": posted.get(f"unit-{i}", "units"), "quantity": posted.get(f"quantity-{i}", "")} for i in range(FORM_LINES)]
    return render(request, "canteens/home.html", {
        "canteen": canteen, "p": progress, "errors": errors, "form_lines": form_lines, "posted": posted,
        "products": Product.objects.filter(active=True).order_by("name"), "suppliers": _suppliers(),
        "orders": canteen_orders_visible_to(request.user).select_related("supplier")[:50],
        "invoices": _unpaid_first(_invoices(request.user)[:50]), "today": county_today(),
    }, status=400 if errors else 200)


def _invoices(user):
    return canteen_invoices_visible_to(user).select_related("delivery__order__canteen__employer").order_by("-created_at")


def _unpaid_first(invoices) -> list:
    rows = list(invoices)
    rows.sort(key=lambda i: (i.paid_at is not None, -i.created_at.timestamp()))
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def canteen_order(request, number: str):
    order = get_object_or_404(canteen_orders_visible_to(request.user).select_related("canteen__employer", "supplier"), number=number)
    supplier = supplier_of(request.user)
    may_deliver = (roles.is_county_office(request.user) or (supplier is not None and supplier.pk == order.supplier_id)) and (
        order.status in (CanteenOrder.Status.OPEN, CanteenOrder.Status.PARTLY))
    errors = FormErrors()
    if request.method == "POST":
        if not may_deliver:
            raise PermissionDenied
        units = {key[len("quantity-"):]: value for key, value in request.POST.items() if key.startswith("quantity-")}
        try:
            delivery = canteen_delivery_record(order=order, author=request.user, units=units)
        except DomainError as exc:
            errors.add_domain_error(exc, field_for_key=_order_field)
        else:
            messages.success(request, _("Delivery %(number)s recorded; print its delivery note.") % {"number": delivery.number})
            return HttpResponseRedirect(request.path)
    lines = list(order.lines.select_related("product__sku", "batch"))
    done = delivered_units(order)
    stock = {}
    if may_deliver:
        for s in BatchStock.objects.filter(facility=order.supplier, quantity__gt=0).values("batch__sku_id", "batch_id", "quantity", "reserved"):
            stock.setdefault(s["batch__sku_id"], 0)
            stock[s["batch__sku_id"]] += s["quantity"] - s["reserved"]
    for line in lines:
        line.delivered = done.get(line.pk, 0)
        line.outstanding = outstanding_units(line, line.delivered)
        line.field = f"quantity-{line.pk}"
        line.value = request.POST.get(line.field, "") if request.method == "POST" else (str(line.outstanding) if line.outstanding else "")
        line.on_hand = stock.get(line.product.sku_id)
    deliveries = list(order.deliveries.select_related("invoice", "sale").order_by("delivered_at"))
    return render(request, "canteens/order.html", {
        "order": order, "lines": lines, "deliveries": deliveries, "may_deliver": may_deliver, "errors": errors,
    }, status=400 if errors else 200)


@login_required
def delivery_note(request, number: str):
    delivery = get_object_or_404(
        canteen_deliveries_visible_to(request.user).select_related("order__canteen__employer", "facility", "sale", "invoice"), number=number)
    rows = []
    for line in delivery.sale.lines.select_related("product").prefetch_related("allocations__batch").order_by("pk"):
        batches = ", ".join(f"{a.batch.code}×{a.units}" for a in line.allocations.all())
        rows.append([line.product.name, batches, str(line.quantity), f"{line.unit_price:,.2f}", f"{line.line_total:,.2f}"])
    order = delivery.order
    title = _("Delivery note %(number)s") % {"number": delivery.number}
    intro = [
        _("To: %(canteen)s (%(employer)s) %(address)s") % {"canteen": order.canteen.name, "employer": order.canteen.employer.name,
                                                           "address": order.canteen.delivery_address},
        _("From: %(facility)s · order %(order)s · delivered %(at)s") % {
            "facility": delivery.facility.name, "order": order.number, "at": f"{timezone.localtime(delivery.delivered_at):%Y-%m-%d %H:%M}"},
        _("Invoice %(invoice)s · pay by bank transfer") % {"invoice": delivery.invoice.number},
    ]
    pdf = table_pdf(
        title=title, intro=intro, header=[_("Product"), _("Batches (units)"), _("Units"), _("Unit price"), _("Amount")], rows=rows,
        widths=(52, 62, 18, 24, 28), right_align_from=2,
        totals=[_("Total"), "", str(sum(int(r[2]) for r in rows)), "", f"{delivery.sale.total:,.2f}"],
        footer=[_("Received in good order by: ____________    Date: ____________")],
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="delivery-{delivery.number}.pdf"'
    return response


@login_required
def supply(request):
    facility = supplier_of(request.user)
    if facility is None and not roles.is_county_office(request.user):
        raise PermissionDenied
    orders = canteen_orders_visible_to(request.user).select_related("canteen__employer", "supplier")
    open_orders = orders.filter(status__in=(CanteenOrder.Status.OPEN, CanteenOrder.Status.PARTLY)).order_by("delivery_date", "pk")
    return render(request, "canteens/supply.html", {
        "facility": facility, "open_orders": open_orders[:200],
        "done": orders.exclude(status__in=(CanteenOrder.Status.OPEN, CanteenOrder.Status.PARTLY))[:30],
    })


@login_required
def invoices(request):
    if not canteen_invoices_visible_to.applies_to(request.user):
        raise PermissionDenied
    rows = _unpaid_first(_invoices(request.user)[:500])
    return render(request, "canteens/invoices.html", {
        "invoices": rows, "may_record": may_record_payments(request.user), "unpaid": sum(i.amount for i in rows if not i.is_paid),
    })


@login_required
@require_http_methods(["POST"])
def invoice_update(request, number: str):
    invoice = get_object_or_404(canteen_invoices_visible_to(request.user), number=number)
    try:
        if request.POST.get("action") == "fapiao":
            canteen_invoice_fapiao(invoice=invoice, fapiao_number=request.POST.get("fapiao_number", ""), author=request.user)
            messages.success(request, _("Fapiao number of %(number)s saved.") % {"number": invoice.number})
        elif request.POST.get("action") == "paid":
            canteen_invoice_paid(invoice=invoice, amount=request.POST.get("amount", ""), bank_reference=request.POST.get("bank_reference", ""),
                                 author=request.user)
            messages.success(request, _("Payment of %(number)s recorded.") % {"number": invoice.number})
        else:
            raise DomainError(_("Choose what to do."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(reverse("canteen-invoices"))


def _progress_xlsx(rows, employers, year) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = _("Canteens")[:31]
    head = [_("Rank"), _("Canteen"), _("Employer"), _("Year"), _("Budget"), _("Reserved share (%)"), _("Required"), _("Purchased"),
            _("Paid"), pgettext("canteen bill", "Unpaid"), _("Share of budget (%)")]
    ws.append(head)
    for r in rows:
        ws.append([r["rank"], r["canteen_name"], r["employer_name"], year, r["budget"], r["reserved_share"], r["required"], r["purchased"],
                   r["paid"], r["unpaid"], r["share_of_budget"]])
    ws2 = wb.create_sheet(_("Employers")[:31])
    ws2.append([_("Rank"), _("Employer"), _("Canteens"), _("Year"), _("Budget"), _("Required"), _("Purchased"), _("Paid"), pgettext("canteen bill", "Unpaid"),
                _("Share of budget (%)")])
    for e in employers:
        ws2.append([e["rank"], e["employer_name"], e["canteens"], year, e["budget"], e["required"], e["purchased"], e["paid"], e["unpaid"],
                    e["share_of_budget"]])
    for sheet in (ws, ws2):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@login_required
@require_http_methods(["GET", "POST"])
def progress(request):
    if not roles.is_county_office(request.user):
        raise PermissionDenied
    year = query_int(request.GET, "year", default=county_today().year, min_value=2000, max_value=2100)
    errors = FormErrors()
    if request.method == "POST":
        canteen = canteens_visible_to(request.user).filter(code=request.POST.get("canteen", "")).first()
        try:
            if canteen is None:
                raise DomainError(_("Choose the canteen."))
            canteen_budget_set(canteen=canteen, year=request.POST.get("year", year), budget=request.POST.get("budget", ""),
                               reserved_share=request.POST.get("reserved_share", ""), author=request.user)
        except DomainError as exc:
            errors.add_domain_error(exc)
        else:
            messages.success(request, _("Budget of %(canteen)s saved.") % {"canteen": canteen.name})
            return HttpResponseRedirect(request.get_full_path())
    canteens = canteens_visible_to(request.user)
    rows = canteen_progress(canteens=canteens, year=year)
    employers = employer_progress(rows)
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(_progress_xlsx(rows, employers, year),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="canteen-progress-{year}.xlsx"'
        return response
    return render(request, "canteens/progress.html", {
        "rows": rows, "employers": employers, "year": year, "errors": errors, "canteens": canteens.order_by("code"), "posted": request.POST,
        "unpaid_count": CanteenInvoice.objects.filter(paid_at__isnull=True).count(),
    }, status=400 if errors else 200)


urlpatterns = [
    path("canteen/", canteen_home, name="canteen-home"),
    path("canteen/supply/", supply, name="canteen-supply"),
    path("canteen/invoices/", invoices, name="canteen-invoices"),
    path("canteen/invoices/<str:number>/", invoice_update, name="canteen-invoice"),
    path("canteen/progress/", progress, name="canteen-progress"),
    path("canteen/orders/<str:number>/", canteen_order, name="canteen-order"),
    path("canteen/deliveries/<str:number>/note.pdf", delivery_note, name="canteen-delivery-note"),
]
