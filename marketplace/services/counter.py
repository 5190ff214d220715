"""Counter sales at the supermarket (门店收银): the only writer of AllocationPass, CounterSale and
TillCount, and of the ``counter`` channel's orders.

A counter sale is an Order with channel ``counter``, completed and paid at once (settlement then
takes it like any sale). It follows checkout's rules through the same services: units leave
earliest best-before first (FEFO) through ``logistics.services.stock`` on the rows
``batch_stock_lock`` locks (no oversell, also against online checkouts running at the same time);
the allocation part is debited through ``allocation_spend_locked`` after the employee row is
locked (no overdraft); one sale per ``client_id`` (a retry gets the same sale back, another sale
under the same id is refused).

Paying from an allocation needs the employee's consent for this one sale: an ``AllocationPass``,
either the QR token shown on "我的额度" (valid 2 minutes) or a 6-digit code texted to the
employee's phone (valid 5 minutes, 5 tries). The pass is used in the sale's transaction: a sale
refused for any reason leaves it unused; a second sale with it is refused.

Lock order (checkout's, with the pass in front): the pass → the stock rows in primary-key order →
the employee. Returns go through ``orders.order_refund`` (cash back first, then the allocation).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from core.errors import ConflictError, DomainError, NotAllowed
from core.money import ZERO, yuan
from core.parsing import InvalidInput, clean_text, parse_decimal, parse_int
from core.sms import sms_send_on_commit
from logistics.models import PackedBatch
from logistics.services import stock as stock_services

from ..access import supermarket_of
from ..models import AllocationPass, CounterSale, Employee, Order, OrderEvent, OrderLine, OrderLineBatch, Product, TillCount
from .allocation import allocation_balance_locked, allocation_spend_locked, allocation_window_open, allocation_year_current
from .cart import cart_limits_problems
from .eligibility import shopping_refusal
from .orders import RESERVATION_REFERENCE, new_order_number, supermarket

logger = logging.getLogger(__name__)

QR_PASS_VALID = datetime.timedelta(minutes=2)
SMS_PASS_VALID = datetime.timedelta(minutes=5)
SMS_PASS_TRIES = 5
MAX_LINES = 50
MAX_QUANTITY = 999
MAX_CASH = Decimal("100000.00")


class CounterError(DomainError):
    code = "counter_invalid"


class CounterConflict(ConflictError):
    code = "counter_conflict"


class CounterInsufficientStock(stock_services.InsufficientStock):
    """Some lines cannot be filled; ``problems`` names each line and what is left."""


class ClientIdReused(ConflictError):
    code = "client_id_reused"


class AllocationPassRefused(ConflictError):
    code = "allocation_pass_refused"


class CashShort(ConflictError):
    code = "cash_short"


def ensure_cashier(user) -> None:
    """Only staff working at the supermarket sell at its counter (NotAllowed, 403, otherwise)."""
    if supermarket_of(user) is None:
        raise NotAllowed(_("Only the supermarket's staff sell at the counter."))


# --- allocation passes ------------------------------------------------------------------------


def _code_hash(token: str, code: str) -> str:
    return salted_hmac("relief.counter.sms-pass", f"{token}:{code}", algorithm="sha256").hexdigest()


@transaction.atomic
def allocation_pass_issue(*, employee: Employee) -> AllocationPass:
    """A QR pass for the employee to show at the counter (valid 2 minutes, one sale)."""
    refusal = shopping_refusal(employee)
    if refusal is not None:
        raise NotAllowed(refusal)
    return AllocationPass.objects.create(
        employee=employee, kind=AllocationPass.Kind.QR, token=f"AP{secrets.token_urlsafe(18)}",
        expires_at=timezone.now() + QR_PASS_VALID,
    )


@transaction.atomic
def allocation_code_send(*, cashier, phone: str) -> AllocationPass:
    """Text a 6-digit code to the employee with this phone (the cashier asks the employee for it)."""
    from ..accounts.services import phone_checked

    ensure_cashier(cashier)
    phone = phone_checked(phone)
    employee = Employee.objects.filter(phone=phone, active=True).select_related("employer").first()
    if employee is None:
        raise CounterConflict(_("No active employee has the phone number %(phone)s.") % {"phone": phone})
    refusal = shopping_refusal(employee)
    if refusal is not None:
        raise CounterConflict(refusal)
    code = f"{secrets.randbelow(10**6):06d}"
    token = f"SM{secrets.token_urlsafe(18)}"
    issued = AllocationPass.objects.create(
        employee=employee, kind=AllocationPass.Kind.SMS, token=token, code_hash=_code_hash(token, code),
        expires_at=timezone.now() + SMS_PASS_VALID,
    )
    sms_send_on_commit(
        phone,
        _("[Zhen'an Relief Market] Your code to pay from your allocation at the supermarket counter is %(code)s "
          "(valid 5 minutes). Give it only to the cashier.") % {"code": code},
    )
    return issued


def _sms_pass_checked(*, phone: str, code: str) -> int:
    """The id of the employee's latest unused SMS pass if ``code`` is its code; a wrong code
    counts against the pass (committed at once, so it counts even though the sale is refused)."""
    from ..accounts.services import normalise_code, phone_checked

    phone = phone_checked(phone)
    code = normalise_code(code)
    with transaction.atomic():
        issued = (
            AllocationPass.objects.select_for_update(of=("self",))
            .filter(kind=AllocationPass.Kind.SMS, employee__phone=phone, used_at__isnull=True, expires_at__gt=timezone.now())
            .order_by("-id")
            .first()
        )
        if issued is None:
            raise AllocationPassRefused(_("No valid code was sent to %(phone)s: send a new code.") % {"phone": phone})
        if issued.attempts >= SMS_PASS_TRIES:
            raise AllocationPassRefused(_("Too many wrong codes: send a new code."))
        if len(code) == 6 and constant_time_compare(issued.code_hash, _code_hash(issued.token, code)):
            return issued.pk
        AllocationPass.objects.filter(pk=issued.pk).update(attempts=F("attempts") + 1)
    raise AllocationPassRefused(_("The code is wrong."))


def _pass_locked(*, pass_id: int | None, token: str | None) -> AllocationPass:
    # of=self: the employee row is locked later, after the stock rows (checkout's order)
    qs = AllocationPass.objects.select_for_update(of=("self",)).select_related("employee", "employee__employer")
    issued = qs.filter(pk=pass_id).first() if pass_id is not None else qs.filter(token=token, kind=AllocationPass.Kind.QR).first()
    if issued is None:
        raise AllocationPassRefused(_("This allocation code is not valid: ask the employee to show a new one."))
    if issued.used_at is not None:
        raise AllocationPassRefused(_("This allocation code was already used (sale %(number)s).") % {"number": issued.order_number})
    if issued.expires_at <= timezone.now():
        raise AllocationPassRefused(_("This allocation code has expired: ask the employee to show a new one."))
    return issued


# --- the sale ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CounterLine:
    """One line the cashier rang up: a product (any batch, FEFO) or one batch by its label code."""

    quantity: int
    product: int | None = None
    batch: str | None = None

    def label(self, index: int) -> str:
        return _("Line %(n)d") % {"n": index + 1}


@dataclass(frozen=True)
class CounterRequest:
    client_id: str
    lines: tuple[CounterLine, ...]
    cash: Decimal = ZERO
    allocation_token: str = ""
    phone: str = ""
    sms_code: str = ""

    def fingerprint(self) -> str:
        """What the sale asks for (not the SMS code, which a retry may not have kept)."""
        data = {
            "lines": [[ln.product, ln.batch, ln.quantity] for ln in self.lines],
            "cash": str(self.cash), "token": self.allocation_token, "phone": self.phone,
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def counter_request_parse(
    *, client_id, lines, cash=None, allocation_token=None, phone=None, sms_code=None
) -> CounterRequest:
    """The sale as typed or posted, checked: InvalidInput (400) naming what is wrong."""
    client_id = clean_text(client_id, max_length=64, label=_("client id"), field="client_id")
    if not client_id:
        raise InvalidInput(_("A sale needs a client id (generated by the counter screen)."), field="client_id")
    if not isinstance(lines, list | tuple) or not lines:
        raise InvalidInput(_("Ring up at least one product."), field="lines")
    if len(lines) > MAX_LINES:
        raise InvalidInput(_("A sale has at most %(n)d lines.") % {"n": MAX_LINES}, field="lines")
    parsed = []
    for i, raw in enumerate(lines):
        if not isinstance(raw, dict):
            raise InvalidInput(_("Line %(n)d: give a product or a batch code and a quantity.") % {"n": i + 1}, field="lines")
        label = _("Line %(n)d") % {"n": i + 1}
        quantity = parse_int(raw.get("quantity"), min_value=1, max_value=MAX_QUANTITY, label=label, field="lines")
        product = raw.get("product")
        batch = clean_text(raw.get("batch"), max_length=40, label=label, field="lines").upper() or None
        product = parse_int(product, min_value=1, label=label, field="lines") if product not in (None, "") else None
        if (product is None) == (batch is None):
            raise InvalidInput(_("Line %(n)d: give either a product or a batch code.") % {"n": i + 1}, field="lines")
        parsed.append(CounterLine(quantity=quantity, product=product, batch=batch))
    cash = parse_decimal(cash if cash not in (None, "") else "0", max_digits=12, places=2, min_value=0, max_value=MAX_CASH,
                         label=_("cash"), field="cash")
    token = clean_text(allocation_token, max_length=64, label=_("allocation code"), field="allocation_token")
    phone = clean_text(phone, max_length=20, label=_("phone"), field="phone")
    sms_code = clean_text(sms_code, max_length=12, label=_("code"), field="sms_code")
    if token and phone:
        raise InvalidInput(_("Pay from one allocation: a QR code or a phone number, not both."), field="allocation_token")
    if phone and not sms_code:
        raise InvalidInput(_("Enter the code texted to the employee."), field="sms_code")
    return CounterRequest(client_id=client_id, lines=tuple(parsed), cash=yuan(cash), allocation_token=token, phone=phone,
                          sms_code=sms_code)


@dataclass
class CounterResult:
    sale: CounterSale
    created: bool


def _same_or_conflict(existing: CounterSale, request: CounterRequest) -> CounterResult:
    if existing.fingerprint != request.fingerprint():
        raise ClientIdReused(
            _("Sale %(number)s was already made under this client id with other lines or payment.") % {"number": existing.order.number}
        )
    return CounterResult(sale=existing, created=False)


def _existing(client_id: str) -> CounterSale | None:
    return CounterSale.objects.select_related("order").filter(client_id=client_id).first()


def _is_lock_conflict(exc: OperationalError) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) in {"40P01", "40001"}


def counter_sale_submit(*, cashier, request: CounterRequest) -> CounterResult:
    """Make the sale (see the module docstring), or give back the one made under its client id.
    Must not run inside an outer transaction (a refused SMS code is committed on its own)."""
    ensure_cashier(cashier)
    existing = _existing(request.client_id)
    if existing is not None:
        return _same_or_conflict(existing, request)
    pass_id = _sms_pass_checked(phone=request.phone, code=request.sms_code) if request.phone else None
    for attempt in range(3):
        try:
            sale = _sale_transaction(cashier=cashier, request=request, pass_id=pass_id)
            return CounterResult(sale=sale, created=True)
        except IntegrityError:
            existing = _existing(request.client_id)
            if existing is None:
                raise
            return _same_or_conflict(existing, request)  # the same sale submitted twice at once
        except OperationalError as exc:
            if not _is_lock_conflict(exc) or attempt == 2:
                raise
            logger.warning("counter sale retried after a lock conflict (attempt %s)", attempt + 1)
    raise AssertionError("unreachable")


def _resolve_lines(request: CounterRequest) -> list[tuple[CounterLine, Product, PackedBatch | None]]:
    product_ids = {ln.product for ln in request.lines if ln.product is not None}
    codes = {ln.batch for ln in request.lines if ln.batch is not None}
    products = Product.objects.select_related("sku").in_bulk(product_ids)
    batches = {b.code.upper(): b for b in PackedBatch.objects.filter(code__in=codes).select_related("sku")}
    by_sku = {p.sku_id: p for p in Product.objects.filter(sku_id__in={b.sku_id for b in batches.values()})}
    resolved, problems = [], []
    for i, ln in enumerate(request.lines):
        if ln.product is not None:
            product, batch = products.get(ln.product), None
            if product is None:
                problems.append(_("%(line)s: no product %(id)s.") % {"line": ln.label(i), "id": ln.product})
                continue
        else:
            batch = batches.get(ln.batch)
            product = by_sku.get(batch.sku_id) if batch is not None else None
            if batch is None:
                problems.append(_("%(line)s: no batch with the code %(code)s.") % {"line": ln.label(i), "code": ln.batch})
                continue
            if product is None:
                problems.append(_("%(line)s: batch %(code)s is not a product on sale.") % {"line": ln.label(i), "code": ln.batch})
                continue
        resolved.append((ln, product, batch))
    if problems:
        raise CounterError(" ".join(problems), problems=problems)
    return resolved


def _plan(resolved, rows) -> tuple[list[list[tuple[object, int]]], list[str]]:
    """Which stock rows each line takes, batch-coded lines first (the customer holds those
    units), then product lines FEFO; every shortfall named by its line."""
    by_sku: dict[int, list] = defaultdict(list)
    by_batch = {}
    for row in rows:
        by_sku[row.batch.sku_id].append(row)
        by_batch[row.batch_id] = row
    free = {row.pk: row.quantity - row.reserved for row in rows}
    takes: list[list[tuple[object, int]]] = [[] for _r in resolved]
    shortfalls: list[str] = []
    order = sorted(range(len(resolved)), key=lambda i: (resolved[i][2] is None, i))
    for i in order:
        ln, product, batch = resolved[i]
        candidates = [by_batch[batch.pk]] if batch is not None and batch.pk in by_batch else ([] if batch else by_sku[product.sku_id])
        wanted = ln.quantity
        for row in candidates:
            take = min(free[row.pk], wanted)
            if take <= 0:
                continue
            takes[i].append((row, take))
            free[row.pk] -= take
            wanted -= take
            if not wanted:
                break
        if wanted:
            left = ln.quantity - wanted
            what = f"{product.name} ({batch.code})" if batch is not None else product.name
            if left:
                shortfalls.append(_("%(line)s, %(what)s: only %(left)d left (asked %(wanted)d).")
                                  % {"line": ln.label(i), "what": what, "left": left, "wanted": ln.quantity})
            else:
                shortfalls.append(_("%(line)s, %(what)s: none left to sell.") % {"line": ln.label(i), "what": what})
    return takes, shortfalls


@transaction.atomic
def _sale_transaction(*, cashier, request: CounterRequest, pass_id: int | None) -> CounterSale:
    issued = _pass_locked(pass_id=pass_id, token=request.allocation_token) if (pass_id or request.allocation_token) else None
    employee = issued.employee if issued is not None else None
    resolved = _resolve_lines(request)
    setting = allocation_year_current()
    if employee is not None:
        limits = cart_limits_problems(
            items=[(product, ln.quantity) for ln, product, _b in resolved], max_units_per_order=setting.max_units_per_order
        )
    else:  # the per-order limits belong to the allocation; cash buys whatever is on sale
        limits = [_("%(product)s is no longer on sale.") % {"product": product.name} for _ln, product, _b in resolved
                  if not product.active]
    if limits:
        raise CounterConflict(" ".join(limits), problems=limits)
    if employee is not None:
        refusal = shopping_refusal(employee)
        if refusal is not None:
            raise AllocationPassRefused(refusal)

    facility = supermarket()
    rows = stock_services.batch_stock_lock(facility_id=facility.pk, sku_ids={product.sku_id for _ln, product, _b in resolved})
    takes, shortfalls = _plan(resolved, rows)
    if shortfalls:
        raise CounterInsufficientStock(" ".join(shortfalls), problems=shortfalls)

    total = yuan(sum((yuan(product.price * ln.quantity) for ln, product, _b in resolved), ZERO))
    allocation_amount, balance = ZERO, ZERO
    if employee is not None and allocation_window_open(setting):
        balance = allocation_balance_locked(employee=employee, year=setting.year)
        allocation_amount = min(balance, total)
    cash_part = total - allocation_amount
    if request.cash < cash_part:
        raise CashShort(
            _("%(due)s yuan is due in cash (allocation %(allocation)s yuan of %(total)s); %(cash)s yuan was handed over.")
            % {"due": cash_part, "allocation": allocation_amount, "total": total, "cash": request.cash}
        )

    now = timezone.now()
    number = new_order_number(now)
    if allocation_amount > 0:
        allocation_spend_locked(
            employee_id=employee.pk, setting=setting, amount=allocation_amount, balance=balance, order_number=number, author=cashier
        )
    order = Order.objects.create(
        number=number, channel=Order.Channel.COUNTER, employee=employee, fulfilment=Order.Fulfilment.PICKUP, year=setting.year,
        total=total, allocation_amount=allocation_amount, card_amount=ZERO, offline_amount=cash_part,
        status=Order.Status.COMPLETED, created_at=now, paid_at=now,
    )
    lines = OrderLine.objects.bulk_create([
        OrderLine(order=order, product=product, quantity=ln.quantity, unit_price=product.price, line_total=yuan(product.price * ln.quantity))
        for ln, product, _b in resolved
    ])
    links: dict[tuple[int, int], int] = defaultdict(int)
    for line, line_takes in zip(lines, takes, strict=True):
        for row, take in line_takes:
            links[(line.pk, row.batch_id)] += take
            stock_services.batch_stock_reserve(stock=row, units=take, reference_type=RESERVATION_REFERENCE, reference_code=number, author=cashier)
            stock_services.batch_stock_sell(stock=row, units=take, reference_type=RESERVATION_REFERENCE, reference_code=number, author=cashier)
    OrderLineBatch.objects.bulk_create([OrderLineBatch(line_id=lid, batch_id=bid, units=u) for (lid, bid), u in links.items()])
    OrderEvent.objects.create(order=order, from_status="", to_status=order.status, author=cashier, note="counter sale")
    if issued is not None:
        AllocationPass.objects.filter(pk=issued.pk).update(used_at=now, order_number=number)
    return CounterSale.objects.create(
        order=order, client_id=request.client_id, fingerprint=request.fingerprint(), cashier=cashier,
        cash_tendered=request.cash, change=request.cash - cash_part,
    )


# --- the till ---------------------------------------------------------------------------------


@transaction.atomic
def till_count_record(*, day: datetime.date, counted, author, note: str = "") -> TillCount:
    """Record the cash counted in the till for ``day`` against what the day's counter sales and
    returns say should be there; the difference is written with it."""
    from ..counter_report import counter_day_report

    ensure_cashier(author)
    counted = parse_decimal(counted, max_digits=12, places=2, min_value=0, max_value=Decimal("10000000"), label=_("counted cash"),
                            field="counted")
    note = clean_text(note, max_length=200, label=_("note"), field="note")
    expected = counter_day_report(day=day).expected_cash
    return TillCount.objects.create(day=day, expected=expected, counted=yuan(counted), difference=yuan(counted) - expected,
                                    note=note, author=author)
