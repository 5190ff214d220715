"""Canteens (单位食堂) and what they buy against their reserved share.

A canteen belongs to an employer; each year the county sets its food budget and the reserved
share (a percentage) to be spent on poverty-area produce. A canteen buyer places bulk orders
(units or kg, of a product or of one batch at a station) for a delivery date; the supermarket or
a station delivers, in one go or in parts. Each delivery is a marketplace ``Order`` of channel
``canteen`` (lines and batch links included, status completed), so settlement attributes it to
households exactly as an online sale, and an ``invoice`` the employer pays by bank transfer.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from logistics.models import Facility, PackedBatch
from marketplace.models import Employer, Order, OrderLine, Product


class Canteen(models.Model):
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="canteens", verbose_name=_("employer"))
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=80)
    delivery_address = models.CharField(_("delivery address"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["employer__code", "code"]
        verbose_name = _("canteen")
        verbose_name_plural = _("canteens")

    def __str__(self) -> str:
        return self.name


class CanteenBudget(models.Model):
    """The canteen's food budget for a year and the reserved share the county set."""

    canteen = models.ForeignKey(Canteen, on_delete=models.PROTECT, related_name="budgets", verbose_name=_("canteen"))
    year = models.PositiveSmallIntegerField(_("year"))
    budget = models.DecimalField(_("yearly food budget (yuan)"), max_digits=12, decimal_places=2)
    reserved_share = models.DecimalField(_("reserved share (%)"), max_digits=5, decimal_places=2, default=Decimal("30.00"))
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("set by"))

    class Meta:
        ordering = ["canteen", "-year"]
        verbose_name = _("canteen budget")
        verbose_name_plural = _("canteen budgets")
        constraints = [
            models.UniqueConstraint(fields=["canteen", "year"], name="canteen_budget_once_per_year"),
            models.CheckConstraint(name="canteen_budget_positive", condition=Q(budget__gt=0)),
            models.CheckConstraint(name="canteen_share_percent", condition=Q(reserved_share__gte=0, reserved_share__lte=100)),
        ]

    def __str__(self) -> str:
        return f"{self.canteen} {self.year}"


class CanteenBuyer(models.Model):
    """A person who orders for one canteen (食堂采购员)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="canteen_buyer")
    canteen = models.ForeignKey(Canteen, on_delete=models.PROTECT, related_name="buyers", verbose_name=_("canteen"))

    class Meta:
        verbose_name = _("canteen buyer")
        verbose_name_plural = _("canteen buyers")

    def __str__(self) -> str:
        return f"{self.user.get_username()} · {self.canteen}"


class CanteenOrder(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Awaiting delivery")
        PARTLY = "partly", _("Partly delivered")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("order number"), max_length=32, unique=True)
    canteen = models.ForeignKey(Canteen, on_delete=models.PROTECT, related_name="orders", verbose_name=_("canteen"))
    supplier = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="canteen_orders", verbose_name=_("delivered by"))
    delivery_date = models.DateField(_("delivery date"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("ordered by"))
    created_at = models.DateTimeField(_("ordered at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("canteen order")
        verbose_name_plural = _("canteen orders")

    def __str__(self) -> str:
        return self.number


class CanteenOrderLine(models.Model):
    class Unit(models.TextChoices):
        UNITS = "units", _("units")
        KG = "kg", _("kg")

    order = models.ForeignKey(CanteenOrder, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="canteen_lines", verbose_name=_("product"))
    batch = models.ForeignKey(PackedBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="canteen_lines",
                              verbose_name=_("batch"))
    unit = models.CharField(_("unit"), max_length=5, choices=Unit.choices, default=Unit.UNITS)
    quantity = models.DecimalField(_("quantity ordered"), max_digits=10, decimal_places=3)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.CheckConstraint(name="canteen_line_quantity_positive", condition=Q(quantity__gt=0))]

    def __str__(self) -> str:
        return f"{self.order.number} · {self.product} {self.quantity} {self.unit}"


class CanteenDelivery(models.Model):
    """One delivery against a canteen order: the sale (a completed canteen-channel Order) and its invoice."""

    number = models.CharField(_("delivery note number"), max_length=40, unique=True)
    order = models.ForeignKey(CanteenOrder, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("canteen order"))
    sale = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="canteen_delivery", verbose_name=_("sale"))
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+", verbose_name=_("delivered from"))
    delivered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("delivered by"))
    delivered_at = models.DateTimeField(_("delivered at"), default=timezone.now)

    class Meta:
        ordering = ["-delivered_at", "-id"]
        verbose_name = _("canteen delivery")
        verbose_name_plural = _("canteen deliveries")

    def __str__(self) -> str:
        return self.number


class CanteenDeliveryLine(models.Model):
    """Which order line a sale line served (units)."""

    delivery = models.ForeignKey(CanteenDelivery, on_delete=models.PROTECT, related_name="lines")
    order_line = models.ForeignKey(CanteenOrderLine, on_delete=models.PROTECT, related_name="deliveries")
    sale_line = models.OneToOneField(OrderLine, on_delete=models.PROTECT, related_name="canteen_delivery_line")
    units = models.PositiveIntegerField()

    class Meta:
        constraints = [models.CheckConstraint(name="canteen_delivery_units_positive", condition=Q(units__gt=0))]


class CanteenInvoice(models.Model):
    """What the employer owes for one delivery; the fapiao number once issued; the bank transfer."""

    number = models.CharField(_("invoice number"), max_length=40, unique=True)
    delivery = models.OneToOneField(CanteenDelivery, on_delete=models.PROTECT, related_name="invoice", verbose_name=_("delivery"))
    amount = models.DecimalField(_("amount (yuan)"), max_digits=12, decimal_places=2)
    fapiao_number = models.CharField(_("fapiao number"), max_length=30, blank=True)
    fapiao_entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    fapiao_entered_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(pgettext_lazy("canteen bill", "paid at"), null=True, blank=True)
    paid_amount = models.DecimalField(_("amount received (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True)
    bank_reference = models.CharField(_("bank transfer reference"), max_length=60, blank=True)
    payment_recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("canteen invoice")
        verbose_name_plural = _("canteen invoices")
        constraints = [
            models.CheckConstraint(name="canteen_invoice_amount_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(
                name="canteen_invoice_paid_whole",
                condition=Q(paid_at__isnull=True, paid_amount__isnull=True) | Q(paid_at__isnull=False, paid_amount__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_paid(self) -> bool:
        return self.paid_at is not None
