"""Supermarket staff pages (phone first): the fulfilment queue with pick lists, an order's page
with its fulfilment steps, cancellation and returns, and employer statements with their Excel
export.

Who: supermarket staff (group ``supermarket_staff``) assigned to a supermarket, and the county
office. Every change goes through the order services (``order_transition``, ``order_cancel``,
``order_refund``); a refused change comes back as a message, never a 500.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import roles
from core.errors import DomainError
from core.form_errors import FormErrors
from core.parsing import InvalidInput, local_url, query_id, query_int, query_month
from logistics.selectors.stock import expiring_rows, supermarket
from logistics.services.access import is_supermarket_staff

from .access import orders_visible_to
from .models import Employer, FapiaoRequest, Order
from .selectors import order_get, order_list
from .services.orders import order_cancel, order_may_transition, order_refund, order_transition
from .statements import StatementMonth, employer_statement, statement_xlsx, statements_for_month

S = Order.Status
QUEUE_STATUSES = [S.PAID, S.PICKING, S.READY_FOR_PICKUP, S.OUT_FOR_DELIVERY]
TO_PICK = {S.PAID, S.PICKING}

# action name -> (target status, the statuses it applies to, button label)
ACTIONS = {
    "start_picking": (S.PICKING, {S.PAID}),
    "ready": (S.READY_FOR_PICKUP, {S.PICKING}),
    "out_for_delivery": (S.OUT_FOR_DELIVERY, {S.PICKING}),
    "completed": (S.COMPLETED, {S.READY_FOR_PICKUP, S.OUT_FOR_DELIVERY}),
}


def action_label(action: str, order: Order | None = None) -> str:
    labels = {
        "start_picking": _("Start picking"),
        "ready": _("Mark ready for pickup"),
        "out_for_delivery": _("Send out for delivery"),
        "completed": _("Delivered") if order is not None and order.fulfilment == Order.Fulfilment.OFFICE else _("Collected"),
    }
    return labels[action]


def actions_for(order: Order) -> list[tuple[str, str]]:
    """The fulfilment buttons an order in its state shows: (action, label)."""
    out = []
    for action, (target, sources) in ACTIONS.items():
        if order.status not in sources:
            continue
        if target == S.READY_FOR_PICKUP and order.fulfilment != Order.Fulfilment.PICKUP:
            continue
        if target == S.OUT_FOR_DELIVERY and order.fulfilment != Order.Fulfilment.OFFICE:
            continue
        out.append((action, action_label(action, order)))
    return out


def supermarket_staff_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_supermarket_staff(request.user):
            raise PermissionDenied
        if "number" in kwargs and not orders_visible_to(request.user).filter(number=kwargs["number"]).exists():
            raise Http404  # the order is outside the user's scope (marketplace/access.py), or none
        return view(request, *args, **kwargs)

    return wrapper


def _back(request, order: Order):
    return redirect(local_url(request.POST.get("next"), request=request, default=reverse("staff_order", args=[order.number])))


def _status_label(value: str) -> str:
    return str(S(value).label) if value in S.values else value


def _order_or_404(number: str) -> Order:
    try:
        return order_get(number=number)
    except Order.DoesNotExist as exc:
        raise Http404 from exc


# --- the queue ----------------------------------------------------------------------------------


class PickGroup:
    """Orders going to one place: pickup at the supermarket, or one employer's office."""

    def __init__(self, key: str, title: str, address: str = ""):
        self.key, self.title, self.address = key, title, address
        self.orders: list[Order] = []
        self._pick: dict[int, dict] = OrderedDict()

    def add(self, order: Order) -> None:
        order.actions = actions_for(order)
        self.orders.append(order)
        if order.status in TO_PICK:
            for line in order.lines.all():
                row = self._pick.setdefault(line.product_id, {"product": line.product, "quantity": 0, "orders": 0})
                row["quantity"] += line.quantity
                row["orders"] += 1

    @property
    def pick_list(self) -> list[dict]:
        return sorted(self._pick.values(), key=lambda r: r["product"].name)

    @property
    def to_pick(self) -> int:
        return sum(1 for o in self.orders if o.status in TO_PICK)


def fulfilment_groups(*, filters: dict | None = None) -> list[PickGroup]:
    """The open fulfilment work: pickup first, then each employer's office, oldest order first."""
    filters = dict(filters or {})
    statuses = [s for s in (filters.pop("status", None) or []) if s in QUEUE_STATUSES] or QUEUE_STATUSES
    qs = order_list(filters={**filters, "status": statuses}).order_by("created_at", "id")
    pickup = PickGroup("pickup", _("Pickup at the supermarket"))
    offices: dict[int, PickGroup] = {}
    for order in qs:
        if order.fulfilment == Order.Fulfilment.OFFICE and order.employee is not None:
            employer = order.employee.employer
            group = offices.get(employer.pk)
            if group is None:
                group = offices[employer.pk] = PickGroup(f"employer-{employer.pk}", employer.name, employer.office_address)
            group.add(order)
        else:
            pickup.add(order)
    groups = [pickup] if pickup.orders else []
    return groups + sorted(offices.values(), key=lambda g: g.title)


@supermarket_staff_required
def fulfilment_queue(request):
    status = [s for s in request.GET.getlist("status") if s in QUEUE_STATUSES]
    employer_id = query_id(request.GET, "employer")
    employer = str(employer_id or "")
    filters = {"status": status}
    if employer_id:
        filters["employer"] = employer
    groups = fulfilment_groups(filters=filters)
    counts = defaultdict(int)
    for group in groups:
        for order in group.orders:
            counts[order.status] += 1
    facility = supermarket()
    return render(request, "marketplace/staff/fulfilment_queue.html", {
        # what expires within 7 days on the supermarket's shelves, with the write-off button
        "facility": facility,
        "expiring": expiring_rows(facility_id=facility.pk) if facility else [],
        "q": f"?facility={facility.code}" if facility and roles.is_county_office(request.user) else "",
        "next": request.get_full_path(),
        "groups": groups,
        "status_choices": [(s, S(s).label, counts.get(s, 0)) for s in QUEUE_STATUSES],
        "selected_status": status,
        "employers": Employer.objects.order_by("code"),
        "selected_employer": employer,
    })


# --- one order ----------------------------------------------------------------------------------


@supermarket_staff_required
def order_page(request, number: str):
    return _order_page(request, _order_or_404(number))


def _order_page(request, order: Order, *, form: str = "", errors: FormErrors | None = None, status: int = 200):
    """The order's page; after a refused cancel or refund (``form``), that form is open again
    with what was typed and its errors."""
    refunded: dict[int, int] = defaultdict(int)
    for refund in order.refunds.prefetch_related("lines"):
        for rl in refund.lines.all():
            refunded[rl.line_id] += rl.units
    lines = []
    for line in order.lines.all():
        field = f"units-{line.pk}"
        lines.append({"line": line, "refunded": refunded[line.pk], "refundable": line.quantity - refunded[line.pk],
                      "field": field, "value": request.POST.get(field, "0") if form == "refund" else "0"})
    events = list(order.events.select_related("author"))
    for event in events:
        event.from_label = _status_label(event.from_status)
        event.to_label = _status_label(event.to_status)

    return render(request, "marketplace/staff/order_detail.html", {
        "order": order,
        "lines": lines,
        "actions": actions_for(order),
        "events": events,
        "refunds": order.refunds.all(),
        "payment": getattr(order, "payment", None),
        "can_cancel": order_may_transition(order=order, to=S.CANCELLED, actor=request.user),
        "can_refund": order_may_transition(order=order, to=S.REFUNDED, actor=request.user),
        "form": form,
        "errors": errors or FormErrors(),
        "posted": request.POST if form else {},
    }, status=status)


@require_POST
@supermarket_staff_required
def order_step(request, number: str, action: str):
    order = _order_or_404(number)
    if action not in ACTIONS:
        raise Http404
    target, _sources = ACTIONS[action]
    try:
        order_transition(order=order, to=target, actor=request.user, reason=request.POST.get("note", "")[:200])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Order %(number)s: %(status)s.") % {"number": order.number, "status": S(target).label})
    return _back(request, order)


@require_POST
@supermarket_staff_required
def order_cancel_view(request, number: str):
    order = _order_or_404(number)
    errors = FormErrors(anchors={"reason": "cancel-reason"})
    reason = request.POST.get("reason") or ""
    try:
        order_cancel(order=order, actor=request.user, reason=reason)
    except DomainError as exc:
        # the service owns the rule (a reason is required); a refusal of a blank reason marks that field
        errors.add(None if reason.strip() else "reason", exc.message)
    if errors:
        return _order_page(request, _order_or_404(number), form="cancel", errors=errors, status=400)
    messages.success(request, _("Order %(number)s was cancelled; the units are back on the shelf and the money is returned.")
                     % {"number": order.number})
    return _back(request, order)


@require_POST
@supermarket_staff_required
def order_refund_view(request, number: str):
    """A return: the whole order, or some units of some lines (``units-<line id>`` fields)."""
    order = _order_or_404(number)
    errors = FormErrors(anchors={"reason": "refund-reason", "units": "refund-units"})
    reason = (request.POST.get("reason") or "").strip()
    if not reason:
        errors.add("reason", _("Say why the order is refunded."))
    lines: dict[int, int] | None = None
    if request.POST.get("scope") != "whole":
        lines = {}
        for line in order.lines.all():
            try:
                units = query_int(request.POST, f"units-{line.pk}", default=0, min_value=0)
            except InvalidInput:
                errors.add(f"units-{line.pk}", _("Units to refund must be whole numbers."))
                continue
            if units:
                lines[line.pk] = units
        if not lines and not any(f.startswith("units-") for f in errors.fields):
            errors.add("units", _("Enter how many units of which products are returned, or refund the whole order."))
    if not errors:
        try:
            refund = order_refund(order=order, lines=lines, reason=reason, actor=request.user, restock=bool(request.POST.get("restock")))
        except DomainError as exc:
            # A card refund the provider refused after the refund was recorded also lands here: the
            # message says so, and the refund can be sent again from its record.
            errors.add(None, exc.message)
            for problem in exc.problems:
                errors.add(None, problem)
        else:
            messages.success(request, _("Refunded %(total)s yuan (allocation %(allocation)s, card %(card)s).") % {
                "total": refund.allocation_amount + refund.card_amount, "allocation": refund.allocation_amount,
                "card": refund.card_amount})
            return _back(request, order)
    return _order_page(request, _order_or_404(number), form="refund", errors=errors, status=400)


# --- employer statements ------------------------------------------------------------------------


def _month_from(request) -> StatementMonth:
    today = timezone.localdate()
    year, month = query_month(request.GET, "month", default=(today.year, today.month))
    return StatementMonth(year, month)


def _employer_from(request) -> Employer | None:
    pk = query_id(request.GET, "employer")
    return Employer.objects.filter(pk=pk).first() if pk else None


@supermarket_staff_required
def statements_page(request):
    month = _month_from(request)
    employer = _employer_from(request)
    context = {
        "month": month,
        "months": StatementMonth.recent(12),
        "employers": Employer.objects.order_by("code"),
        "employer": employer,
    }
    if employer is None:
        context["summary"] = statements_for_month(month=month)
    else:
        context["statement"] = employer_statement(employer=employer, month=month)
        context["fapiao"] = FapiaoRequest.objects.filter(employer=employer, year=month.year, month=month.month).first()
    return render(request, "marketplace/staff/statements.html", context)


@supermarket_staff_required
def statement_export(request):
    month = _month_from(request)
    employer = _employer_from(request)
    content = statement_xlsx(month=month, employer=employer)
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    name = f"statement-{employer.code if employer else 'all'}-{month}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


def staff_home(request):
    return redirect(reverse("staff_queue"))


urlpatterns = [
    path("staff/", supermarket_staff_required(staff_home), name="staff_home"),
    path("staff/orders/", fulfilment_queue, name="staff_queue"),
    path("staff/orders/<str:number>/", order_page, name="staff_order"),
    path("staff/orders/<str:number>/step/<str:action>/", order_step, name="staff_order_step"),
    path("staff/orders/<str:number>/cancel/", order_cancel_view, name="staff_order_cancel"),
    path("staff/orders/<str:number>/refund/", order_refund_view, name="staff_order_refund"),
    path("staff/statements/", statements_page, name="staff_statements"),
    path("staff/statements/export/", statement_export, name="staff_statement_export"),
]

__all__ = ["actions_for", "fulfilment_groups", "is_supermarket_staff", "supermarket_staff_required", "urlpatterns"]
