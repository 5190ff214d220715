"""Site pages of the chain beyond intake (mobile first):

``/trace/<batch code>/``                 public trace page of a batch — aggregates only, no personal data
``/station/``                            staff home at a station or the supermarket (also a point's dispatch)
``/station/dispatch/``                   dispatch a shipment to the next tier
``/station/shipments/<code>/receive/``   sign for an incoming shipment, with loss reasons
``/station/pack/``                       record a packing run
``/station/batches/<code>/``             a batch: inspection, hold (recall) and whom to notify, labels
``/station/batches/<code>/labels.pdf``   the QR label sheet
``/station/trace/``                      staff trace lookup (batch, lot or household), with the .xlsx export
``/station/expired/write-off/``          POST: write off a batch's expired units at the facility

Staff act at their own facility; the county office picks one (``?facility=<code>``). Shipments,
batches and traces outside the user's scope (logistics/access.py) answer 404.
Forms call the services; a domain error becomes a message on the form.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core import roles
from core.errors import DomainError
from core.parsing import parse_date, query_int, query_text

from .access import (
    batches_visible_to,
    facility_of,
    is_supply_chain_staff,
    lots_visible_to,
    shipments_visible_to,
    trace_for_user,
)
from .labels import batch_labels_pdf
from .models import BatchStock, Facility, Shipment, Sku
from .selectors.lots import lots_on_hand
from .selectors.stock import expiring_rows
from .selectors.trace import public_batch_trace, trace_batch
from .services.batches import batch_hold, batch_inspect, batch_release_hold
from .services.packing import packing_run_complete
from .services.shipments import lot_loss_record, shipment_dispatch, shipment_receive
from .services.stock import batch_write_off_expired


def trace_public(request, code: str):
    data = public_batch_trace(code)
    if data is None:
        return render(request, "logistics/trace_not_found.html", {"code": code}, status=404)
    return render(request, "logistics/trace_public.html", {"t": data})


# --- staff -----------------------------------------------------------------------------------


def _facility(request) -> Facility | None:
    """The facility the user acts at: their own, or the one the county office picked."""
    if not is_supply_chain_staff(request.user):
        raise PermissionDenied
    own = facility_of(request.user)
    if own is not None and not roles.is_county_office(request.user):
        return own
    code = query_text(request.GET, "facility", max_length=32) or query_text(request.POST, "facility", max_length=32)
    if code:
        return Facility.objects.filter(code=code).first()
    return own


def _choose(request):
    facilities = Facility.objects.exclude(kind=Facility.Kind.COLLECTION_POINT).order_by("kind", "code")
    return render(request, "logistics/station/choose.html", {"facilities": facilities})


def _q(request, facility: Facility) -> str:
    return f"?facility={facility.code}" if roles.is_county_office(request.user) else ""


def _error(request, exc: DomainError) -> None:
    messages.error(request, exc.message)
    for p in exc.problems:
        messages.error(request, p)


@login_required
def station_home(request):
    facility = _facility(request)
    if facility is None:
        return _choose(request)
    incoming = Shipment.objects.filter(destination=facility, status=Shipment.Status.DISPATCHED).select_related("origin")
    recent_out = Shipment.objects.filter(origin=facility).select_related("destination")[:10]
    stock = (BatchStock.objects.filter(facility=facility, quantity__gt=0).select_related("batch__sku")
             .order_by("-batch__packed_at")[:50])
    lots = lots_on_hand(facility_id=facility.pk)
    total_kg = sum((r["on_hand"] for r in lots), Decimal("0"))
    return render(request, "logistics/station/home.html", {
        "facility": facility, "incoming": incoming, "recent_out": recent_out, "stock": stock, "lots": lots[:50],
        "lot_count": len(lots), "total_kg": total_kg, "q": _q(request, facility),
        "expiring": expiring_rows(facility_id=facility.pk), "next": request.get_full_path(),
    })


@login_required
@require_http_methods(["POST"])
def write_off_expired(request):
    """The button beside an expired batch: its expired units here leave the books as ``expired``."""
    facility = _facility(request)
    if facility is None:
        raise PermissionDenied
    batch = batches_visible_to(request.user).filter(code=request.POST.get("batch", "")).first()
    try:
        if batch is None:
            raise DomainError(_("Choose the batch."))
        units = batch_write_off_expired(batch=batch, author=request.user, facility=facility)
    except DomainError as exc:
        _error(request, exc)
    else:
        if units:
            messages.success(request, _("%(n)d expired units of batch %(code)s written off.") % {"n": units, "code": batch.code})
        else:
            messages.info(request, _("Nothing of batch %(code)s is left to write off here.") % {"code": batch.code})
    back = request.POST.get("next") or ""
    if not (back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure())):
        back = reverse("station-home") + _q(request, facility)
    return HttpResponseRedirect(back)


@login_required
@require_http_methods(["GET", "POST"])
def dispatch(request):
    facility = _facility(request)
    if facility is None:
        return _choose(request)
    lots = lots_on_hand(facility_id=facility.pk)
    stock = list(BatchStock.objects.filter(facility=facility, quantity__gt=0).select_related("batch__sku").order_by("batch__packed_at"))
    if request.method == "POST":
        lines = []
        by_code = {r["lot"].code: r["lot"] for r in lots}
        for r in lots:
            v = request.POST.get(f"lot-{r['lot'].pk}", "").strip()
            if v:
                lines.append((by_code[r["lot"].code], v))
        for s in stock:
            v = request.POST.get(f"batch-{s.batch_id}", "").strip()
            if v:
                lines.append((s.batch, v))
        try:
            shipment = shipment_dispatch(origin=facility, lines=lines, author=request.user)
        except DomainError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Shipment %(code)s dispatched to %(to)s.") % {"code": shipment.code, "to": shipment.destination.name})
            return HttpResponseRedirect(reverse("station-home") + _q(request, facility))
    return render(request, "logistics/station/dispatch.html", {
        "facility": facility, "lots": lots, "stock": stock, "posted": request.POST, "q": _q(request, facility),
    })


@login_required
@require_http_methods(["GET", "POST"])
def receive(request, code: str):
    facility = _facility(request)
    shipment = get_object_or_404(shipments_visible_to(request.user).select_related("origin", "destination"), code=code)
    if facility is None or (shipment.destination_id != facility.pk and not roles.is_county_office(request.user)):
        raise PermissionDenied
    lines = list(shipment.lines.select_related("lot__grade__produce", "batch__sku").order_by("pk"))
    if request.method == "POST":
        received = {line.pk: request.POST.get(f"received-{line.pk}", "").strip() or str(line.dispatched) for line in lines}
        reasons = {line.pk: request.POST.get(f"reason-{line.pk}", "") for line in lines}
        try:
            shipment_receive(shipment=shipment, received=received, loss_reasons=reasons, author=request.user)
        except DomainError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Shipment %(code)s received.") % {"code": shipment.code})
            return HttpResponseRedirect(reverse("station-home") + _q(request, shipment.destination))
    return render(request, "logistics/station/receive.html", {
        "facility": shipment.destination, "shipment": shipment, "lines": lines, "posted": request.POST,
        "q": _q(request, shipment.destination),
    })


@login_required
@require_http_methods(["GET", "POST"])
def pack(request):
    facility = _facility(request)
    if facility is None:
        return _choose(request)
    if facility.kind != Facility.Kind.SORTING_STATION:
        messages.error(request, _("Packing happens at a sorting station; %(facility)s is not one.") % {"facility": facility.name})
        return HttpResponseRedirect(reverse("station-home") + _q(request, facility))
    skus = list(Sku.objects.select_related("produce", "grade"))
    sku = next((s for s in skus if str(s.pk) == (request.POST.get("sku") or request.GET.get("sku") or "")), None)
    lots = lots_on_hand(facility_id=facility.pk, produce_id=sku.produce_id, grade_id=sku.grade_id) if sku else []
    if request.method == "POST" and sku is not None:
        inputs = []
        for r in lots:
            v = request.POST.get(f"lot-{r['lot'].pk}", "").strip()
            if v:
                inputs.append((r["lot"], v))
        try:
            best_before = parse_date(request.POST["best_before"], label=_("best-before date")) if request.POST.get("best_before") else None
            batch = packing_run_complete(
                station=facility, sku=sku, inputs=inputs, units=request.POST.get("units", ""),
                unit_weight_kg=request.POST.get("unit_weight_kg") or None, best_before=best_before,
                waste_kg=request.POST.get("waste_kg") or "0", author=request.user,
            )
        except DomainError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Batch %(code)s packed; it awaits inspection before sale.") % {"code": batch.code})
            return HttpResponseRedirect(reverse("station-batch", args=[batch.code]) + _q(request, facility))
    return render(request, "logistics/station/pack.html", {
        "facility": facility, "skus": skus, "sku": sku, "lots": lots, "posted": request.POST, "q": _q(request, facility),
    })


@login_required
@require_http_methods(["GET", "POST"])
def batch_detail(request, code: str):
    if not is_supply_chain_staff(request.user):
        raise PermissionDenied
    batch = get_object_or_404(
        batches_visible_to(request.user).select_related("sku__produce", "sku__grade", "station", "packing_run"), code=code
    )
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "inspect":
                batch_inspect(batch=batch, passed=request.POST.get("passed") == "yes", inspector=request.user,
                              notes=request.POST.get("notes", ""))
                messages.success(request, _("Inspection recorded."))
            elif action == "hold":
                batch_hold(batch=batch, reason=request.POST.get("reason", ""), author=request.user)
                messages.success(request, _("Batch %(code)s is on hold and off sale.") % {"code": batch.code})
            elif action == "release":
                batch_release_hold(batch=batch, reason=request.POST.get("reason", ""), author=request.user)
                messages.success(request, _("Hold released."))
            else:
                raise Http404
        except DomainError as exc:
            _error(request, exc)
        else:
            return HttpResponseRedirect(request.get_full_path())
        batch.refresh_from_db()
    trace = trace_batch(batch)
    return render(request, "logistics/station/batch.html", {
        "batch": batch, "trace": trace, "inspections": batch.inspections.order_by("-inspected_at"),
        "holds": batch.hold_events.order_by("-created_at"),
    })


@login_required
def batch_labels(request, code: str):
    user = request.user
    if not (roles.is_county_office(user) or roles.has_role(user, roles.SORTING_STATION_STAFF)):
        raise PermissionDenied
    batch = get_object_or_404(batches_visible_to(user).select_related("sku__produce", "sku__grade", "station"), code=code)
    own = facility_of(user)
    if not roles.is_county_office(user) and (own is None or own.pk != batch.station_id):
        raise PermissionDenied
    count = query_int(request.GET, "count", min_value=1)
    url = request.build_absolute_uri(reverse("trace-public", args=[batch.code]))
    response = HttpResponse(batch_labels_pdf(batch=batch, trace_url=url, count=count), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="labels-{batch.code}.pdf"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def lot_loss(request):
    facility = _facility(request)
    if facility is None:
        return _choose(request)
    lots = lots_on_hand(facility_id=facility.pk)
    if request.method == "POST":
        lot = lots_visible_to(request.user).filter(code=request.POST.get("lot", "")).first()
        try:
            if lot is None:
                raise DomainError(_("Choose the lot."))
            lot_loss_record(lot=lot, facility=facility, weight_kg=request.POST.get("weight_kg", ""),
                            reason=request.POST.get("reason", ""), author=request.user)
        except DomainError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Loss recorded."))
            return HttpResponseRedirect(reverse("station-home") + _q(request, facility))
    return render(request, "logistics/station/loss.html", {"facility": facility, "lots": lots, "posted": request.POST,
                                                           "q": _q(request, facility)})


@login_required
def staff_trace(request):
    if not is_supply_chain_staff(request.user):
        raise PermissionDenied
    code = query_text(request.GET, "code", max_length=64)
    trace = trace_for_user(request.user, code) if code else None
    return render(request, "logistics/station/trace.html", {"code": code, "trace": trace, "searched": bool(code)})


urlpatterns = [
    path("trace/<str:code>/", trace_public, name="trace-public"),
    path("station/", station_home, name="station-home"),
    path("station/dispatch/", dispatch, name="station-dispatch"),
    path("station/pack/", pack, name="station-pack"),
    path("station/loss/", lot_loss, name="station-loss"),
    path("station/trace/", staff_trace, name="station-trace"),
    path("station/expired/write-off/", write_off_expired, name="station-write-off-expired"),
    path("station/shipments/<str:code>/receive/", receive, name="station-receive"),
    path("station/batches/<str:code>/", batch_detail, name="station-batch"),
    path("station/batches/<str:code>/labels.pdf", batch_labels, name="station-batch-labels"),
]
