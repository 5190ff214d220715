"""Products, employers and employees, yearly allocations and their ledger, orders.

Cart, payments, Stripe events and refunds are added beside these by the marketplace work;
settlement lives in the ``marketplace.settlement`` app.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.ledger import AppendOnlyModel
from core.models import private_storage
from households.models import SalesChannel
from logistics.models import PackedBatch, Sku


class Product(models.Model):
    """A SKU on sale at the supermarket, with its retail price."""

    sku = models.OneToOneField(Sku, on_delete=models.PROTECT, related_name="product", verbose_name=_("SKU"))
    name = models.CharField(_("name"), max_length=80)
    price = models.DecimalField(_("price (yuan)"), max_digits=10, decimal_places=2)
    active = models.BooleanField(_("on sale"), default=True)
    max_per_order = models.PositiveSmallIntegerField(_("most units per order"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(
                name="product_price_positive", condition=Q(price__gt=0), violation_error_message=_("The price must be more than zero.")
            )
        ]

    def __str__(self) -> str:
        return self.name


class Employer(models.Model):
    """单位: a county department, school or hospital that grants its staff the allocation."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=80, unique=True)
    office_address = models.CharField(_("office address"), max_length=200, blank=True)
    active = models.BooleanField(
        _("taking part"), default=True, help_text=_("Its employees may shop only while their employer takes part.")
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("employer")
        verbose_name_plural = _("employers")

    def __str__(self) -> str:
        return self.name


class Employee(models.Model):

    # Written in bulk by day-to-day work; Wagtail's reference index (snippet "usage") would add
    # a read and a write to every save once the admin has registered the model.
    wagtail_reference_index_ignore = True
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="employee", verbose_name=_("user account"))
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="employees", verbose_name=_("employer"))
    staff_number = models.CharField(_("staff number"), max_length=20)
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("mobile phone"), max_length=11, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["employer", "staff_number"]
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        constraints = [models.UniqueConstraint(fields=["employer", "staff_number"], name="staff_number_unique_per_employer")]

    def __str__(self) -> str:
        return f"{self.name} ({self.employer})"


# The first day of an employee's first membership when it was not recorded (employees that existed
# before memberships did, or written in bulk): "since records began", so no earlier order falls
# outside every membership.
MEMBERSHIP_EPOCH = datetime.date(2000, 1, 1)


class Membership(models.Model):
    """An employee belongs to an employer from ``valid_from`` (inclusive) to ``valid_to``
    (exclusive; null = still there). Ranges of one employee never overlap and are never edited
    once closed: a move closes one and opens the next (``services.employees.employee_move``), so
    statements, progress and reports of a past month read the membership of that month.

    ``Employee.employer`` is the employer of the open range, kept in step by the same service.
    On PostgreSQL an exclusion constraint (migration 0008) refuses overlapping ranges as well."""

    wagtail_reference_index_ignore = True
    employee = models.ForeignKey("Employee", on_delete=models.PROTECT, related_name="memberships", verbose_name=_("employee"))
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("employer"))
    staff_number = models.CharField(_("staff number"), max_length=20, help_text=_("the employee's number at this employer"))
    valid_from = models.DateField(_("from"))
    valid_to = models.DateField(_("until (not included)"), null=True, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["employee", "valid_from"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        indexes = [models.Index(fields=["employee", "valid_from"]), models.Index(fields=["employer", "valid_from"])]
        constraints = [
            models.UniqueConstraint(fields=["employee"], condition=Q(valid_to__isnull=True), name="membership_one_open_per_employee"),
            models.UniqueConstraint(fields=["employee", "valid_from"], name="membership_starts_once"),
            models.CheckConstraint(
                name="membership_range_not_empty", condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} @ {self.employer_id} [{self.valid_from}, {self.valid_to or '…'})"


class AllocationYear(models.Model):
    """The county's setting for one year's allocation."""

    class Unspent(models.TextChoices):
        EXPIRE = "expire", _("Expires at the end of the window")
        CARRY_OVER = "carry_over", _("Carries over to next year")

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    amount = models.DecimalField(_("amount per employee (yuan)"), max_digits=10, decimal_places=2, default=Decimal("700.00"))
    opens_on = models.DateField(_("spending opens"))
    closes_on = models.DateField(_("spending closes"))
    unspent = models.CharField(_("unspent balance"), max_length=12, choices=Unspent.choices, default=Unspent.EXPIRE)
    dividend_rate = models.DecimalField(
        _("dividend rate (二次返利)"), max_digits=5, decimal_places=4, default=Decimal("0.0500"),
        help_text=_("share of attributed sales revenue paid to households as a dividend"),
    )
    max_units_per_order = models.PositiveSmallIntegerField(
        _("most units per order"), default=20, help_text=_("the county's limit on the units of one order, all products together")
    )

    class Meta:
        ordering = ["-year"]
        verbose_name = _("allocation year")
        verbose_name_plural = _("allocation years")
        constraints = [
            models.CheckConstraint(
                name="allocation_amount_not_negative", condition=Q(amount__gte=0),
                violation_error_message=_("The amount may not be negative."),
            ),
            models.CheckConstraint(
                name="allocation_window_ordered", condition=Q(closes_on__gte=models.F("opens_on")),
                violation_error_message=_("Spending must close on or after the day it opens."),
            ),
        ]

    def __str__(self) -> str:
        return str(self.year)


class AllocationEntry(AppendOnlyModel):
    """The append-only allocation ledger: grant (+), spend (−), refund (+), expiry (−).

    ``balance_after`` is the running balance for (employee, year), written under the row lock
    of the employee's latest entry; the database refuses a negative one.
    """

    class Kind(models.TextChoices):
        GRANT = "grant", _("Grant")
        SPEND = "spend", _("Spend")
        REFUND = "refund", _("Refund")
        EXPIRY = "expiry", _("Expiry")
        CARRY_OVER = "carry_over", _("Carried over")
        REVERSAL = "reversal", _("Correction")

    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="allocation_entries", verbose_name=_("employee"))
    year = models.PositiveSmallIntegerField(_("year"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=10, decimal_places=2)
    balance_after = models.DecimalField(_("balance after"), max_digits=10, decimal_places=2)
    order_number = models.CharField(max_length=32, blank=True, verbose_name=_("order number"))
    idempotency_key = models.CharField(max_length=80, unique=True, null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True, verbose_name=_("reason"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("recorded at"))

    class Meta:
        ordering = ["employee", "year", "id"]
        verbose_name = _("allocation entry")
        verbose_name_plural = _("allocation entries")
        indexes = [models.Index(fields=["employee", "year", "id"])]
        constraints = [
            models.CheckConstraint(name="allocation_balance_never_negative", condition=Q(balance_after__gte=0)),
        ]

    def __str__(self) -> str:
        return f"{self.employee} · {self.year} · {self.get_kind_display()} ¥{self.amount}"


class Order(models.Model):
    """A sale, by one of three channels: an employee's online order (``employee`` set, the
    database insists), a cash-and-allocation sale at the supermarket's counter (completed at once;
    ``employee`` only when an allocation paid part of it), or a canteen's bulk delivery (no
    employee). ``total`` = allocation + card + offline (cash at the counter, bank transfer)."""

    wagtail_reference_index_ignore = True  # bulk-written records stay out of the reference index

    Channel = SalesChannel

    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", _("Pending payment")
        PAID = "paid", _("Paid")
        PICKING = "picking", _("Picking")
        READY_FOR_PICKUP = "ready", _("Ready for pickup")
        OUT_FOR_DELIVERY = "delivering", _("Out for delivery")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")

    class Fulfilment(models.TextChoices):
        PICKUP = "pickup", _("Pick up at the supermarket")
        OFFICE = "office", _("Deliver to my employer's office")

    number = models.CharField(_("order number"), max_length=32, unique=True)
    channel = models.CharField(_("sales channel"), max_length=10, choices=SalesChannel.choices, default=SalesChannel.ONLINE)
    employee = models.ForeignKey(
        Employee, null=True, blank=True, on_delete=models.PROTECT, related_name="orders", verbose_name=_("employee")
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT)
    fulfilment = models.CharField(_("fulfilment"), max_length=10, choices=Fulfilment.choices, default=Fulfilment.PICKUP)
    year = models.PositiveSmallIntegerField(_("allocation year"))
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    allocation_amount = models.DecimalField(_("paid from allocation"), max_digits=12, decimal_places=2)
    card_amount = models.DecimalField(_("paid by card"), max_digits=12, decimal_places=2)
    offline_amount = models.DecimalField(
        _("paid in cash or by transfer"), max_digits=12, decimal_places=2, default=Decimal("0.00"),
        help_text=_("cash at the counter, or a canteen's bank transfer"),
    )
    # settable (not auto_now_add) so that demo and benchmark data can be dated in the past
    created_at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("ordered at"))
    paid_at = models.DateTimeField(null=True, blank=True, db_index=True, verbose_name=_("payment time"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["employee", "created_at"]),
            models.Index(fields=["channel", "paid_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                name="order_amounts_add_up",
                condition=Q(total=models.F("allocation_amount") + models.F("card_amount") + models.F("offline_amount")),
            ),
            models.CheckConstraint(
                name="order_amounts_not_negative", condition=Q(allocation_amount__gte=0, card_amount__gte=0, offline_amount__gte=0)
            ),
            models.CheckConstraint(name="order_online_has_employee", condition=~Q(channel="online") | Q(employee__isnull=False)),
            models.CheckConstraint(
                name="order_allocation_has_employee", condition=Q(allocation_amount=0) | Q(employee__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    line_total = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.CheckConstraint(name="order_line_quantity_positive", condition=Q(quantity__gt=0))]

    def __str__(self) -> str:
        return f"{self.order.number} · {self.product} × {self.quantity}"


class OrderLineBatch(models.Model):
    """Which batch's units an order line took (FIFO at checkout): the link settlement follows."""

    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="allocations")
    batch = models.ForeignKey(PackedBatch, on_delete=models.PROTECT, related_name="order_allocations")
    units = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["line", "batch"], name="order_line_batch_once"),
            models.CheckConstraint(name="order_line_batch_units_positive", condition=Q(units__gt=0)),
        ]
        indexes = [models.Index(fields=["batch", "line"])]

    def __str__(self) -> str:
        return f"{self.line} ← {self.batch.code}"


class OrderEvent(AppendOnlyModel):
    """Every status change of an order, with who and when."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    note = models.CharField(max_length=200, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.order.number} → {Order.Status(self.to_status).label if self.to_status in Order.Status.values else self.to_status}"


class OrderNotice(models.Model):
    """An employee was told their order is ready for pickup or out for delivery (shown on "我的
    订单", and texted when the employee has a phone). One per order and status."""

    class Kind(models.TextChoices):
        READY_FOR_PICKUP = "ready", _("Ready for pickup")
        OUT_FOR_DELIVERY = "delivering", _("Out for delivery")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    text = models.CharField(_("text"), max_length=300)
    texted_to = models.CharField(_("texted to"), max_length=11, blank=True)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order notice")
        verbose_name_plural = _("order notices")
        constraints = [models.UniqueConstraint(fields=["order", "kind"], name="order_notice_once_per_status")]

    def __str__(self) -> str:
        return f"{self.order.number} · {self.get_kind_display()}"


class Cart(models.Model):
    """One open cart per employee; emptied by checkout."""

    employee = models.OneToOneField(Employee, on_delete=models.CASCADE, related_name="cart")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return str(self.employee)


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "product"], name="cart_item_once_per_product"),
            models.CheckConstraint(name="cart_item_quantity_positive", condition=Q(quantity__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity}"


class Payment(models.Model):
    """The card part of an order, paid through a provider (Stripe Checkout today)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting payment")
        SUCCEEDED = "succeeded", _("Paid")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")
        REFUNDED = "refunded", _("Refunded")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="payment")
    provider = models.CharField(max_length=20)  # "stripe"
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="CNY")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    session_id = models.CharField(max_length=255, blank=True, db_index=True)  # Stripe Checkout Session id
    payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    # a signed gateway address: Alipay puts the whole signed request in the query string (several KB)
    payment_url = models.TextField(blank=True)
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(name="payment_amount_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(
                name="payment_refund_within_amount", condition=Q(refunded_amount__gte=0, refunded_amount__lte=models.F("amount"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order.number} · ¥{self.amount} · {self.get_status_display()}"


class PaymentEvent(models.Model):
    """A provider's webhook event, stored once by its id (exactly-once application)."""

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="payment_event_once")]

    def __str__(self) -> str:
        return f"{self.provider} · {self.event_id}"


class Refund(models.Model):
    """Money going back to an employee for an order (whole or some lines)."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    allocation_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    card_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    # cash given back at the counter (a counter sale's cash part)
    offline_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    provider_refund_id = models.CharField(max_length=255, blank=True)
    reason = models.CharField(max_length=200)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                name="refund_amounts_not_negative", condition=Q(allocation_amount__gte=0, card_amount__gte=0, offline_amount__gte=0)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order.number} · ¥{self.allocation_amount + self.card_amount + self.offline_amount}"


class RefundLine(models.Model):
    """Units of an order line refunded, and from which batch they had come (settlement reverses these)."""

    refund = models.ForeignKey(Refund, on_delete=models.PROTECT, related_name="lines")
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="refund_lines")
    batch = models.ForeignKey(PackedBatch, on_delete=models.PROTECT, related_name="+")
    units = models.PositiveIntegerField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        constraints = [models.CheckConstraint(name="refund_line_units_positive", condition=Q(units__gt=0))]

    def __str__(self) -> str:
        return f"{self.refund} · {self.units}"


class ProviderReconciliation(models.Model):
    """One day's comparison of the books with one payment provider's records (the daily task or
    ``manage.py payments_reconcile``); a rerun of the day replaces it. ``differences``: a list of
    ``{"order", "kind", "books", "provider", "message"}`` for the county office."""

    day = models.DateField()
    provider = models.CharField(max_length=20)
    ran_at = models.DateTimeField(auto_now=True)
    checked = models.PositiveIntegerField(default=0)  # payments compared
    differences = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-day", "provider"]
        constraints = [models.UniqueConstraint(fields=["day", "provider"], name="provider_reconciliation_once_a_day")]

    def __str__(self) -> str:
        return f"{self.day} · {self.provider} · {len(self.differences)}"


class FapiaoRequest(models.Model):
    """An employer's request for a fapiao (发票) for one month's statement, and the fapiao the
    supermarket issued for it (its number, date and PDF). Nothing here talks to the tax system:
    the supermarket issues the fapiao in its own tax software and records it here."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        ISSUED = "issued", _("Issued")

    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="fapiao_requests")
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)  # the statement's amount owed when requested
    title = models.CharField(_("fapiao title (购方名称)"), max_length=100)
    tax_number = models.CharField(_("taxpayer ID (纳税人识别号)"), max_length=20)
    address = models.CharField(_("address and telephone"), max_length=200, blank=True)
    bank = models.CharField(_("bank and account"), max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    fapiao_number = models.CharField(_("fapiao number"), max_length=20, blank=True)
    issued_on = models.DateField(_("date issued"), null=True, blank=True)
    pdf = models.FileField(_("fapiao PDF"), storage=private_storage, upload_to="fapiao/%Y/%m/", blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-year", "-month", "employer_id"]
        constraints = [
            models.UniqueConstraint(fields=["employer", "year", "month"], name="one_fapiao_request_per_statement"),
            models.CheckConstraint(name="fapiao_amount_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(name="fapiao_issued_has_number",
                                   condition=Q(status="requested") | (~Q(fapiao_number="") & Q(issued_on__isnull=False))),
        ]

    def __str__(self) -> str:
        return f"{self.employer} · {self.year}-{self.month:02d} · {self.get_status_display()}"


# Counter sales live in their own module (models.py stays readable); imported here so Django finds them.
from .models_counter import AllocationPass, CounterSale, TillCount  # noqa: E402, F401
