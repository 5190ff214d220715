"""The writers of canteen records: budgets (county office), orders (the canteen's buyer),
deliveries (the supplying station or supermarket), fapiao numbers and bank transfers (the
supermarket).

A delivery is a sale: units leave the supplier's shelf earliest best-before first (FEFO, through
logistics' stock service), and a marketplace ``Order`` of channel ``canteen`` is written —
completed, its lines and batch links those units, ``offline_amount`` its total (the employer pays
by bank transfer) and ``paid_at`` the delivery time. Settlement therefore attributes the revenue
to households on the day of delivery, as for any sale; whether the employer has paid yet is the
invoice's business (unpaid invoices stay on the lists) and changes nothing in the households'
income.

Lock order: the CanteenOrder row, then the supplier's BatchStock rows in primary-key order (the
order checkout and the counter take them in).
"""

from __future__ import annotations

import math
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core import roles
from core.errors import ConflictError, DomainError, NotAllowed
from core.money import yuan
from core.parsing import InvalidInput, clean_text, parse_date, parse_decimal, parse_int
from logistics.access import ensure_acts_at
from logistics.models import BatchStock, Facility, PackedBatch
from logistics.selectors.stock import batch_is_sellable, county_today
from logistics.services.stock import InsufficientStock, batch_stock_lock, batch_stock_reserve, batch_stock_sell
from marketplace.models import Order, OrderEvent, OrderLine, OrderLineBatch, Product
from marketplace.services.orders import new_order_number

from .access import canteen_of, may_record_payments
from .models import (
    Canteen,
    CanteenBudget,
    CanteenDelivery,
    CanteenDeliveryLine,
    CanteenInvoice,
    CanteenOrder,
    CanteenOrderLine,
)

REFERENCE = "order"  # stock movements name the sale's order number, as checkout's do


class CanteenOrderRefused(DomainError):
    code = "canteen_order_refused"


class CanteenOrderConflict(ConflictError):
    code = "canteen_order_state"


# --- budgets -----------------------------------------------------------------------------------


@transaction.atomic
def canteen_budget_set(*, canteen: Canteen, year, budget, reserved_share, author) -> CanteenBudget:
    """The county office sets a canteen's food budget and reserved share (%) for a year."""
    if not roles.is_county_office(author):
        raise NotAllowed(_("Only the county office sets canteen budgets and reserved shares."))
    try:
        year = parse_int(year, min_value=2000, max_value=2100, label=_("Year"))
        budget = yuan(parse_decimal(budget, max_digits=12, places=2, label=_("Yearly food budget")))
        share = parse_decimal(reserved_share, max_digits=5, places=2, label=_("Reserved share (%)"))
    except InvalidInput as exc:
        raise CanteenOrderRefused(exc.message) from None
    if budget <= 0:
        raise CanteenOrderRefused(_("The budget must be more than zero."))
    if not 0 <= share <= 100:
        raise CanteenOrderRefused(_("The reserved share is a percentage between 0 and 100."))
    row, _created = CanteenBudget.objects.update_or_create(
        canteen=canteen, year=year, defaults={"budget": budget, "reserved_share": share, "set_by": author}
    )
    return row


# --- orders ------------------------------------------------------------------------------------


def _may_order_for(author, canteen: Canteen) -> None:
    if roles.is_county_office(author):
        return
    own = canteen_of(author)
    if own is None or own.pk != canteen.pk:
        raise NotAllowed(_("You may order only for your own canteen."))


@transaction.atomic
def canteen_order_place(*, canteen: Canteen, author, supplier: Facility | None, delivery_date, lines: list[dict], note: str = "") -> CanteenOrder:
    """A bulk order. ``lines``: dicts with ``product`` (id) or ``batch`` (a code at the supplier),
    ``unit`` (``units`` or ``kg``) and ``quantity``. Every problem is reported together."""
    _may_order_for(author, canteen)
    problems: list[str] = []
    keys: dict[str, str] = {}
    if supplier is None or not supplier.active or supplier.kind == Facility.Kind.COLLECTION_POINT:
        problems.append(_("Choose the supermarket or a sorting station to deliver."))
        keys["supplier"] = problems[-1]
    try:
        day = parse_date(delivery_date, label=_("Delivery date"))
        if day < county_today():
            raise InvalidInput(_("The delivery date cannot be in the past."))
    except InvalidInput as exc:
        problems.append(exc.message)
        keys["delivery_date"] = exc.message
        day = None
    try:
        note = clean_text(note or "", max_length=200, label=_("Note"))
    except InvalidInput as exc:
        problems.append(exc.message)
        keys["note"] = exc.message
    built: list[CanteenOrderLine] = []
    for i, raw in enumerate(lines):
        label = _("Line %(n)d") % {"n": i + 1}
        product, batch = None, None
        code = str(raw.get("batch") or "").strip()
        try:
            if code:
                batch = PackedBatch.objects.select_related("sku").filter(code=code).first()
                held = batch is not None and supplier is not None and BatchStock.objects.filter(
                    batch=batch, facility=supplier, quantity__gt=0).exists()
                if not held:
                    raise InvalidInput(_("%(line)s: batch %(code)s is not in stock at the chosen supplier.") % {"line": label, "code": code})
                product = Product.objects.filter(sku_id=batch.sku_id, active=True).first()
                if product is None:
                    raise InvalidInput(_("%(line)s: batch %(code)s has no product on sale.") % {"line": label, "code": code})
            else:
                pid = raw.get("product")
                product = Product.objects.filter(pk=parse_int(pid, min_value=1, label=label), active=True).first() if pid not in (None, "") else None
                if product is None:
                    raise InvalidInput(_("%(line)s: choose a product on sale or a batch.") % {"line": label})
            unit = raw.get("unit") or CanteenOrderLine.Unit.UNITS
            if unit not in CanteenOrderLine.Unit.values:
                raise InvalidInput(_("%(line)s: order in units or in kg.") % {"line": label})
            if unit == CanteenOrderLine.Unit.UNITS:
                quantity = Decimal(parse_int(raw.get("quantity"), min_value=1, max_value=1_000_000, label=label))
            else:
                quantity = parse_decimal(raw.get("quantity"), max_digits=10, places=3, round_places=True, label=label)
                if quantity <= 0:
                    raise InvalidInput(_("%(line)s: the quantity must be more than zero.") % {"line": label})
        except InvalidInput as exc:
            problems.append(exc.message)
            keys[f"line:{i}"] = exc.message
            continue
        built.append(CanteenOrderLine(product=product, batch=batch, unit=unit, quantity=quantity))
    if not built and not problems:
        problems.append(_("An order needs at least one line."))
    if problems:
        raise CanteenOrderRefused(_("The order could not be placed."), problems=problems, problem_keys=keys)
    order = CanteenOrder.objects.create(
        number=f"CT-{new_order_number()}", canteen=canteen, supplier=supplier, delivery_date=day, note=note, created_by=author,
    )
    for line in built:
        line.order = order
    CanteenOrderLine.objects.bulk_create(built)
    return order


def _unit_weight(line: CanteenOrderLine) -> Decimal:
    return line.batch.unit_weight_kg if line.batch_id else line.product.sku.unit_weight_kg


def delivered_units(order: CanteenOrder) -> dict[int, int]:
    rows = CanteenDeliveryLine.objects.filter(order_line__order=order).values("order_line_id").annotate(n=Sum("units"))
    return {r["order_line_id"]: int(r["n"]) for r in rows}


def outstanding_units(line: CanteenOrderLine, delivered: int) -> int:
    """Units still to deliver: the rest of a units line; for a kg line, whole units that cover the
    kilograms still missing (rounded up: a canteen gets at least what it ordered)."""
    if line.unit == CanteenOrderLine.Unit.UNITS:
        return max(int(line.quantity) - delivered, 0)
    missing = line.quantity - delivered * _unit_weight(line)
    return max(math.ceil(missing / _unit_weight(line)), 0) if missing > 0 else 0


@transaction.atomic
def canteen_delivery_record(*, order: CanteenOrder, author, units: dict, at=None) -> CanteenDelivery:
    """Deliver ``units`` ({order line id: units typed}) of ``order`` from its supplier, FEFO. A
    partial delivery leaves the order partly delivered. Writes the sale (a completed canteen-
    channel Order with its lines and batch links), the delivery and its invoice."""
    at = at or timezone.now()
    order = CanteenOrder.objects.select_for_update(of=("self",)).select_related("supplier", "canteen").get(pk=order.pk)
    ensure_acts_at(author, order.supplier)
    if order.status in (CanteenOrder.Status.DELIVERED, CanteenOrder.Status.CANCELLED):
        raise CanteenOrderConflict(_("Order %(number)s is %(status)s: nothing more is delivered.")
                                   % {"number": order.number, "status": order.get_status_display()})
    lines = {ln.pk: ln for ln in order.lines.select_related("product__sku", "batch")}
    done = delivered_units(order)
    wanted: dict[int, int] = {}
    problems, keys = [], {}
    for raw_id, raw in units.items():
        line = lines.get(int(raw_id)) if str(raw_id).isdigit() else None
        text = str(raw if raw is not None else "").strip()
        if line is None or not text:
            continue
        label = line.batch.code if line.batch_id else line.product.name
        try:
            n = parse_int(text, min_value=0, max_value=1_000_000, label=label)
        except InvalidInput as exc:
            problems.append(exc.message)
            keys[f"line:{line.pk}"] = exc.message
            continue
        left = outstanding_units(line, done.get(line.pk, 0))
        if n > left:
            problems.append(_("%(what)s: only %(n)d units are still to deliver.") % {"what": label, "n": left})
            keys[f"line:{line.pk}"] = problems[-1]
        elif n:
            wanted[line.pk] = n
    if problems:
        raise CanteenOrderRefused(_("The delivery could not be recorded."), problems=problems, problem_keys=keys)
    if not wanted:
        raise CanteenOrderRefused(_("Enter the units delivered on at least one line."))

    today = county_today(at)
    sku_ids = sorted({lines[pk].product.sku_id for pk in wanted})
    rows = batch_stock_lock(facility_id=order.supplier_id, sku_ids=sku_ids)  # FEFO, locked in pk order
    sale_number = new_order_number(at)
    takes: dict[int, list[tuple]] = defaultdict(list)
    for pk in sorted(wanted):
        line, need = lines[pk], wanted[pk]
        candidates = [r for r in rows if r.batch.sku_id == line.product.sku_id and (not line.batch_id or r.batch_id == line.batch_id)]
        for row in candidates:
            if need == 0:
                break
            if not batch_is_sellable(row.batch, on=today):
                continue
            take = min(need, row.quantity - row.reserved)
            if take <= 0:
                continue
            takes[pk].append((row, take))
            need -= take
            row.reserved += take  # held in memory so a second line of the SKU sees what is left
        if need:
            label = line.batch.code if line.batch_id else line.product.name
            have = wanted[pk] - need
            problems.append(_("%(what)s: only %(n)d sellable units at %(facility)s.") % {"what": label, "n": have, "facility": order.supplier.name})
            keys[f"line:{pk}"] = problems[-1]
    for taken in takes.values():
        for row, take in taken:
            row.reserved -= take
    if problems:
        raise InsufficientStock(_("Not enough stock for this delivery."), problems=problems, problem_keys=keys)

    total = Decimal("0.00")
    for pk in wanted:
        total += yuan(lines[pk].product.price * wanted[pk])
    sale = Order.objects.create(
        number=sale_number, channel=Order.Channel.CANTEEN, employee=None, status=Order.Status.COMPLETED, year=today.year,
        total=total, allocation_amount=Decimal("0.00"), card_amount=Decimal("0.00"), offline_amount=total,
        created_at=at, paid_at=at,
    )
    OrderEvent.objects.create(order=sale, from_status="", to_status=Order.Status.COMPLETED, author=author,
                              note=f"canteen delivery {order.number}"[:200])
    n_deliveries = order.deliveries.count() + 1
    delivery = CanteenDelivery.objects.create(
        number=f"{order.number}-D{n_deliveries}", order=order, sale=sale, facility=order.supplier, delivered_by=author, delivered_at=at,
    )
    for pk in sorted(wanted):
        line = lines[pk]
        sale_line = OrderLine.objects.create(order=sale, product=line.product, quantity=wanted[pk], unit_price=line.product.price,
                                             line_total=yuan(line.product.price * wanted[pk]))
        for row, take in takes[pk]:
            batch_stock_reserve(stock=row, units=take, reference_type=REFERENCE, reference_code=sale.number, author=author)
            batch_stock_sell(stock=row, units=take, reference_type=REFERENCE, reference_code=sale.number, author=author)
            OrderLineBatch.objects.create(line=sale_line, batch_id=row.batch_id, units=take)
        CanteenDeliveryLine.objects.create(delivery=delivery, order_line=line, sale_line=sale_line, units=wanted[pk])
    CanteenInvoice.objects.create(number=f"INV-{delivery.number}", delivery=delivery, amount=total, created_at=at)
    done = delivered_units(order)
    finished = all(outstanding_units(ln, done.get(ln.pk, 0)) == 0 for ln in lines.values())
    order.status = CanteenOrder.Status.DELIVERED if finished else CanteenOrder.Status.PARTLY
    order.save(update_fields=["status"])
    return delivery


# --- invoices ----------------------------------------------------------------------------------


def _lock_invoice(invoice: CanteenInvoice, author) -> CanteenInvoice:
    if not may_record_payments(author):
        raise NotAllowed(_("The supermarket records fapiao numbers and payments."))
    return CanteenInvoice.objects.select_for_update(of=("self",)).get(pk=invoice.pk)


@transaction.atomic
def canteen_invoice_fapiao(*, invoice: CanteenInvoice, fapiao_number, author) -> CanteenInvoice:
    invoice = _lock_invoice(invoice, author)
    try:
        number = clean_text(fapiao_number or "", max_length=30, label=_("Fapiao number"))
    except InvalidInput as exc:
        raise CanteenOrderRefused(exc.message) from None
    if not number:
        raise CanteenOrderRefused(_("Enter the fapiao number."))
    invoice.fapiao_number, invoice.fapiao_entered_by, invoice.fapiao_entered_at = number, author, timezone.now()
    invoice.save(update_fields=["fapiao_number", "fapiao_entered_by", "fapiao_entered_at"])
    return invoice


@transaction.atomic
def canteen_invoice_paid(*, invoice: CanteenInvoice, amount, bank_reference, author, at=None) -> CanteenInvoice:
    """The employer's bank transfer for the whole invoice (a short or long transfer is refused:
    the difference is settled with the employer first)."""
    invoice = _lock_invoice(invoice, author)
    if invoice.paid_at is not None:
        raise CanteenOrderConflict(_("Invoice %(number)s is already paid.") % {"number": invoice.number})
    try:
        paid = yuan(parse_decimal(amount, max_digits=12, places=2, label=_("Amount received")))
        reference = clean_text(bank_reference or "", max_length=60, label=_("Bank transfer reference"))
    except InvalidInput as exc:
        raise CanteenOrderRefused(exc.message) from None
    if paid != invoice.amount:
        raise CanteenOrderRefused(_("The transfer of %(paid)s yuan does not match the invoice's %(amount)s yuan.")
                                  % {"paid": paid, "amount": invoice.amount})
    if not reference:
        raise CanteenOrderRefused(_("Enter the bank transfer reference."))
    invoice.paid_at, invoice.paid_amount, invoice.bank_reference, invoice.payment_recorded_by = at or timezone.now(), paid, reference, author
    invoice.save(update_fields=["paid_at", "paid_amount", "bank_reference", "payment_recorded_by"])
    return invoice
