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
Forms call the services; a refused form comes back (400) with everything typed still in it, the
problems in the error box at the top and on each wrong field (core.form_errors).
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

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
from core.form_errors import FormErrors
from core.money import kg as kg_rounded
from core.parsing import parse_date, query_int, query_text

from .access import (
    batches_visible_to,
    facility_of,
    is_supply_chain_staff,
    lots_visible_to,
    shipments_visible_to,
    trace_for_user,
)
from .errors import InvalidQuantity
from .labels import batch_labels_pdf
from .models import BatchStock, Facility, Shipment, Sku
from .selectors.lots import lots_on_hand
from .selectors.stock import expiring_rows
from .selectors.trace import DEFAULT_PAGE as TRACE_PAGE
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


def _error(request, exc: DomainError) -> None:
    """A refused button press (nothing typed to keep): its message after the redirect, shown in
    the site's error box."""
    messages.error(request, exc.message)
    for p in exc.problems:
        messages.error(request, p)


def _plain(value) -> str:
    """``Decimal('12.500')`` -> ``12.5`` (what the form shows before anything is typed)."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _line_field(key: str) -> str | None:
    """A service's problem key (``lot:12``, ``batch:7``) -> the form's input name (``lot-12``)."""
    kind, _sep, pk = key.partition(":")
    return f"{kind}-{pk}" if kind in ("lot", "batch") and pk.isdigit() else None


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
    errors = FormErrors()
    if request.method == "POST":
        lines = []
        for r in lots:
            v = request.POST.get(f"lot-{r['lot'].pk}", "").strip()
            if v:
                lines.append((r["lot"], v))
        for s in stock:
            v = request.POST.get(f"batch-{s.batch_id}", "").strip()
            if v:
                lines.append((s.batch, v))
        try:
            shipment = shipment_dispatch(origin=facility, lines=lines, author=request.user)
        except DomainError as exc:
            errors.add_domain_error(exc, field_for_key=_line_field)
        else:
            messages.success(request, _("Shipment %(code)s dispatched to %(to)s.") % {"code": shipment.code, "to": shipment.destination.name})
            return HttpResponseRedirect(reverse("station-home") + _q(request, facility))
    for r in lots:
        r["field"] = f"lot-{r['lot'].pk}"
        r["value"] = request.POST.get(r["field"], "")
    for s in stock:
        s.field = f"batch-{s.batch_id}"
        s.value = request.POST.get(s.field, "")
    return render(request, "logistics/station/dispatch.html", {
        "facility": facility, "lots": lots, "stock": stock, "errors": errors, "q": _q(request, facility),
    }, status=400 if errors else 200)


def _receipt_field(key: str) -> str | None:
    """``line:12:received`` -> ``received-12``; ``line:12:reason`` -> ``reason-12``."""
    kind, _sep, rest = key.partition(":")
    pk, _sep, which = rest.partition(":")
    return f"{which}-{pk}" if kind == "line" and pk.isdigit() and which in ("received", "reason") else None


@login_required
@require_http_methods(["GET", "POST"])
def receive(request, code: str):
    facility = _facility(request)
    shipment = get_object_or_404(shipments_visible_to(request.user).select_related("origin", "destination"), code=code)
    if facility is None or (shipment.destination_id != facility.pk and not roles.is_county_office(request.user)):
        raise PermissionDenied
    lines = list(shipment.lines.select_related("lot__grade__produce", "batch__sku").order_by("pk"))
    errors = FormErrors()
    for line in lines:
        # the form starts at what was dispatched; once posted it shows exactly what was typed
        line.dispatched_shown = _plain(kg_rounded(line.dispatched)) if line.lot_id else str(int(line.dispatched))
        line.received_field, line.reason_field = f"received-{line.pk}", f"reason-{line.pk}"
        line.received_value = request.POST.get(line.received_field, line.dispatched_shown).strip()
        line.reason_value = request.POST.get(line.reason_field, "").strip()
    if request.method == "POST":
        for line in lines:
            if not line.received_value:
                # never read a blank as "everything arrived": that is how a shortage became a full receipt
                errors.add(f"received-{line.pk}", _("Enter the quantity received (0 if nothing arrived)."))
        if not errors:
            try:
                shipment_receive(shipment=shipment, received={line.pk: line.received_value for line in lines},
                                 loss_reasons={line.pk: line.reason_value for line in lines}, author=request.user)
            except DomainError as exc:
                errors.add_domain_error(exc, field_for_key=_receipt_field)
            else:
                messages.success(request, _("Shipment %(code)s received.") % {"code": shipment.code})
                return HttpResponseRedirect(reverse("station-home") + _q(request, shipment.destination))
    return render(request, "logistics/station/receive.html", {
        "facility": shipment.destination, "shipment": shipment, "lines": lines, "errors": errors,
        "q": _q(request, shipment.destination),
    }, status=400 if errors else 200)


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
    errors = FormErrors()
    if request.method == "POST" and sku is None:
        errors.add("sku", _("Choose the product."))
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
            errors.add_domain_error(exc, field_for_key=_line_field)
        else:
            messages.success(request, _("Batch %(code)s packed; it awaits inspection before sale.") % {"code": batch.code})
            return HttpResponseRedirect(reverse("station-batch", args=[batch.code]) + _q(request, facility))
    for r in lots:
        r["field"] = f"lot-{r['lot'].pk}"
        r["value"] = request.POST.get(r["field"], "")
    values = {
        "units": request.POST.get("units", ""),
        "unit_weight_kg": request.POST.get("unit_weight_kg", _plain(kg_rounded(sku.unit_weight_kg)) if sku else ""),
        "waste_kg": request.POST.get("waste_kg", "0"),
        "best_before": request.POST.get("best_before", ""),
    }
    return render(request, "logistics/station/pack.html", {
        "facility": facility, "skus": skus, "sku": sku, "lots": lots, "values": values, "errors": errors, "q": _q(request, facility),
    }, status=400 if errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def batch_detail(request, code: str):
    if not is_supply_chain_staff(request.user):
        raise PermissionDenied
    batch = get_object_or_404(
        batches_visible_to(request.user).select_related("sku__produce", "sku__grade", "station", "packing_run"), code=code
    )
    errors = FormErrors()
    action = request.POST.get("action") if request.method == "POST" else None
    if request.method == "POST":
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
            # each of these forms has one text input: a refusal about its content marks it
            field = "notes" if action == "inspect" else "reason"
            if isinstance(exc, InvalidQuantity) and not exc.problems:
                errors.add(field, exc.message)
            else:
                errors.add_domain_error(exc)
        else:
            return HttpResponseRedirect(request.get_full_path())
        batch.refresh_from_db()
    trace = trace_batch(batch, limit=None)  # the page lists every lot the batch was packed from
    return render(request, "logistics/station/batch.html", {
        "batch": batch, "trace": trace, "inspections": batch.inspections.order_by("-inspected_at"),
        "holds": batch.hold_events.order_by("-created_at"), "errors": errors, "action": action,
        "posted": request.POST,
    }, status=400 if errors else 200)


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
    errors = FormErrors()
    values = {k: request.POST.get(k, "") for k in ("lot", "weight_kg", "reason")}
    if request.method == "POST":
        lot = lots_visible_to(request.user).filter(code=values["lot"], pk__in=[r["lot"].pk for r in lots]).first()
        if lot is None:
            errors.add("lot", _("Choose the lot."))
        else:
            try:
                lot_loss_record(lot=lot, facility=facility, weight_kg=values["weight_kg"], reason=values["reason"], author=request.user)
            except DomainError as exc:
                # a missing reason, a bad weight, or more than is on hand: each about one input
                field = "reason" if not values["reason"].strip() else "weight_kg"
                errors.add(field, exc.message)
            else:
                messages.success(request, _("Loss recorded."))
                return HttpResponseRedirect(reverse("station-home") + _q(request, facility))
    return render(request, "logistics/station/loss.html", {"facility": facility, "lots": lots, "values": values, "errors": errors,
                                                           "q": _q(request, facility)}, status=400 if errors else 200)


@login_required
def staff_trace(request):
    if not is_supply_chain_staff(request.user):
        raise PermissionDenied
    code = query_text(request.GET, "code", max_length=64)
    offset = query_int(request.GET, "offset", min_value=0) or 0
    trace = trace_for_user(request.user, code, offset=offset, limit=TRACE_PAGE) if code else None
    more = None
    if trace is not None and trace.next_events_offset is not None:
        more = f"{reverse('station-trace')}?{urlencode({'code': code, 'offset': trace.next_events_offset})}"
    page = {"page_first": offset + 1, "page_last": offset + len(trace.events)} if trace is not None else {}
    return render(request, "logistics/station/trace.html",
                  {"code": code, "trace": trace, "searched": bool(code), "more": more, **page})


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
