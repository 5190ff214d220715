"""Stock-take pages (盘点), phone first:

``/station/stocktakes/``                     the facility's stock-takes (county office: all, those awaiting approval first); open one
``/station/stocktakes/<code>/``              the count sheet: enter counts, submit; county office approves or sends back
``/station/stocktakes/<code>/sheet.pdf``     the printable count sheet (A4), to count on paper

Staff of a station or the supermarket open and count their own facility's stock-takes; the county
office approves. A stock-take outside the user's scope (logistics/access.py) answers 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core import roles
from core.errors import DomainError
from core.form_errors import FormErrors
from core.pdf_table import table_pdf

from .access import facility_of, is_supply_chain_staff, stocktakes_visible_to
from .models import BatchStock, Facility, StockTake
from .services.stocktake import (
    stocktake_approve,
    stocktake_cancel,
    stocktake_count,
    stocktake_open,
    stocktake_send_back,
    stocktake_submit,
)


def _may_use(user) -> bool:
    if roles.is_county_office(user):
        return True
    facility = facility_of(user) if is_supply_chain_staff(user) else None
    return facility is not None and facility.kind != Facility.Kind.COLLECTION_POINT


def _line_field(key: str) -> str | None:
    kind, _sep, pk = key.partition(":")
    return f"count-{pk}" if kind == "line" and pk.isdigit() else None


@login_required
@require_http_methods(["GET", "POST"])
def stocktake_list(request):
    if not _may_use(request.user):
        raise PermissionDenied
    county = roles.is_county_office(request.user)
    own = None if county else facility_of(request.user)
    if request.method == "POST":
        facility = own
        if county:
            facility = Facility.objects.exclude(kind=Facility.Kind.COLLECTION_POINT).filter(code=request.POST.get("facility", "")).first()
        try:
            if facility is None:
                raise DomainError(_("Choose the facility to count."))
            stocktake = stocktake_open(facility=facility, author=request.user, note=request.POST.get("note", ""))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Stock-take %(code)s opened: count each batch.") % {"code": stocktake.code})
            return HttpResponseRedirect(reverse("stocktake-detail", args=[stocktake.code]))
        return HttpResponseRedirect(reverse("stocktake-list"))
    stocktakes = list(stocktakes_visible_to(request.user).select_related("facility")[:200])
    order = {StockTake.Status.SUBMITTED: 0, StockTake.Status.COUNTING: 1}
    stocktakes.sort(key=lambda s: order.get(s.status, 2))
    facilities = Facility.objects.exclude(kind=Facility.Kind.COLLECTION_POINT).filter(active=True).order_by("kind", "code") if county else []
    return render(request, "logistics/stocktake/list.html", {
        "stocktakes": stocktakes, "facility": own, "facilities": facilities, "county": county,
    })


def _sheet_lines(stocktake: StockTake):
    lines = list(stocktake.lines.select_related("batch__sku"))
    now_book = dict(BatchStock.objects.filter(facility=stocktake.facility, batch_id__in=[ln.batch_id for ln in lines])
                    .values_list("batch_id", "quantity"))
    for line in lines:
        line.book_now = now_book.get(line.batch_id, 0)
        line.field = f"count-{line.pk}"
        line.moved_since = None if line.book_at_count is None else line.book_now - line.book_at_count - (line.posted_delta or 0)
    return lines


@login_required
@require_http_methods(["GET", "POST"])
def stocktake_detail(request, code: str):
    if not _may_use(request.user):
        raise PermissionDenied
    stocktake = get_object_or_404(stocktakes_visible_to(request.user).select_related("facility"), code=code)
    errors = FormErrors()
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action in ("count", "submit"):
                counts = {key[len("count-"):]: value for key, value in request.POST.items() if key.startswith("count-")}
                if stocktake.status == StockTake.Status.COUNTING:
                    n = stocktake_count(stocktake=stocktake, counts=counts, author=request.user)
                else:
                    n = 0
                if action == "submit":
                    stocktake_submit(stocktake=stocktake, author=request.user)
                    messages.success(request, _("Stock-take submitted to the county office for approval."))
                else:
                    messages.success(request, _("%(n)d counts saved.") % {"n": n})
            elif action == "approve":
                stocktake_approve(stocktake=stocktake, author=request.user)
                messages.success(request, _("Stock-take approved: the differences are posted."))
            elif action == "send_back":
                stocktake_send_back(stocktake=stocktake, author=request.user)
                messages.success(request, _("Stock-take sent back for a recount."))
            elif action == "cancel":
                stocktake_cancel(stocktake=stocktake, author=request.user)
                messages.success(request, _("Stock-take cancelled; nothing was posted."))
            else:
                raise DomainError(_("Choose what to do."))
        except DomainError as exc:
            errors.add_domain_error(exc, field_for_key=_line_field)
        else:
            return HttpResponseRedirect(request.path)
        stocktake.refresh_from_db()
    lines = _sheet_lines(stocktake)
    for line in lines:
        line.value = request.POST.get(line.field, "" if line.counted is None else str(line.counted)) if request.method == "POST" else (
            "" if line.counted is None else str(line.counted))
    diffs = [ln.difference for ln in lines if ln.difference is not None]
    return render(request, "logistics/stocktake/detail.html", {
        "stocktake": stocktake, "lines": lines, "errors": errors, "county": roles.is_county_office(request.user),
        "counted": len(diffs), "missing": sum(-d for d in diffs if d < 0), "found": sum(d for d in diffs if d > 0),
        "editable": stocktake.status == StockTake.Status.COUNTING,
    }, status=400 if errors else 200)


@login_required
def stocktake_sheet_pdf(request, code: str):
    if not _may_use(request.user):
        raise PermissionDenied
    stocktake = get_object_or_404(stocktakes_visible_to(request.user).select_related("facility"), code=code)
    lines = _sheet_lines(stocktake)
    title = _("Stock-take %(code)s · %(facility)s") % {"code": stocktake.code, "facility": stocktake.facility.name}
    header = [_("Batch"), _("Product"), _("Best before"), _("Book units"), _("Counted"), _("Difference")]
    rows = [[ln.batch.code, ln.batch.sku.name, ln.batch.best_before.isoformat(), str(ln.book_at_open),
             "" if ln.counted is None else str(ln.counted), "" if ln.difference is None else f"{ln.difference:+d}"] for ln in lines]
    intro = [_("Opened %(at)s by %(who)s · status: %(status)s") % {
        "at": f"{timezone.localtime(stocktake.created_at):%Y-%m-%d %H:%M}", "who": stocktake.created_by.get_username(),
        "status": stocktake.get_status_display()}]
    footer = [_("Counted by: ____________    Checked by: ____________    Date: ____________")]
    pdf = table_pdf(title=title, intro=intro, header=header, rows=rows, widths=(40, 50, 24, 20, 22, 22), footer=footer,
                    right_align_from=3)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="stocktake-{stocktake.code}.pdf"'
    return response


urlpatterns = [
    path("station/stocktakes/", stocktake_list, name="stocktake-list"),
    path("station/stocktakes/<str:code>/", stocktake_detail, name="stocktake-detail"),
    path("station/stocktakes/<str:code>/sheet.pdf", stocktake_sheet_pdf, name="stocktake-sheet"),
]
