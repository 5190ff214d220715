"""Counter sales at the supermarket (门店收银): the one-time passes that let a cashier spend an
employee's allocation, the sale's idempotency record, and the till's cash-ups.

A counter sale is an ``Order`` with channel ``counter`` (completed at once, so settlement takes it
like any sale); ``CounterSale`` is what only the counter knows about it: the client id that makes a
retried submission the same sale, the cashier, and the cash handed over.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.ledger import AppendOnlyModel

from .models import Employee, Order


class AllocationPass(models.Model):
    """Permission to spend an employee's allocation once at the counter: a QR token the employee
    shows from "我的额度" (valid 2 minutes), or a 6-digit code texted to the employee's phone.
    Used by exactly one sale (``used_at`` and ``order_number`` are written in the sale's
    transaction, so a sale that fails leaves the pass unused)."""

    class Kind(models.TextChoices):
        QR = "qr", _("QR code")
        SMS = "sms", _("Text message code")

    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="allocation_passes", verbose_name=_("employee"))
    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices)
    token = models.CharField(max_length=64, unique=True)
    code_hash = models.CharField(max_length=64, blank=True, help_text="sha256 of the texted code (SMS passes)")
    attempts = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField(_("valid until"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    order_number = models.CharField(_("order number"), max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("allocation pass")
        verbose_name_plural = _("allocation passes")
        indexes = [models.Index(fields=["employee", "kind", "created_at"])]
        constraints = [
            models.CheckConstraint(name="allocation_pass_used_by_an_order", condition=Q(used_at__isnull=True) | ~Q(order_number="")),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} · {self.kind} · {self.expires_at:%H:%M:%S}"


class CounterSale(models.Model):
    """What the counter knows of its sale: one per ``client_id`` (a retried submission finds it),
    the fingerprint of what was asked (the same id with other content is refused), the cashier and
    the cash handed over."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="counter_sale", verbose_name=_("order"))
    client_id = models.CharField(max_length=64, unique=True)
    fingerprint = models.CharField(max_length=64)
    cashier = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("cashier"))
    cash_tendered = models.DecimalField(_("cash handed over"), max_digits=12, decimal_places=2, default=Decimal("0.00"))
    change = models.DecimalField(_("change"), max_digits=12, decimal_places=2, default=Decimal("0.00"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("counter sale")
        verbose_name_plural = _("counter sales")
        constraints = [
            models.CheckConstraint(name="counter_sale_cash_not_negative", condition=Q(cash_tendered__gte=0, change__gte=0)),
        ]

    def __str__(self) -> str:
        return self.order.number


class TillCount(AppendOnlyModel):
    """A cash-up: the cash counted in the till at the end of a county day against what the day's
    counter sales and returns say should be there. Never edited: a recount is a new row (the
    latest one of the day stands)."""

    day = models.DateField(_("day"))
    expected = models.DecimalField(_("expected cash"), max_digits=12, decimal_places=2)
    counted = models.DecimalField(_("counted cash"), max_digits=12, decimal_places=2)
    difference = models.DecimalField(_("difference"), max_digits=12, decimal_places=2)
    note = models.CharField(_("note"), max_length=200, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("counted by"))
    created_at = models.DateTimeField(_("counted at"), auto_now_add=True)

    class Meta:
        ordering = ["-day", "-id"]
        verbose_name = _("till count")
        verbose_name_plural = _("till counts")
        constraints = [
            models.CheckConstraint(name="till_count_difference_adds_up", condition=Q(difference=models.F("counted") - models.F("expected"))),
            models.CheckConstraint(name="till_count_counted_not_negative", condition=Q(counted__gte=0)),
        ]

    def __str__(self) -> str:
        return f"{self.day} · {self.counted} ({self.difference:+})"
