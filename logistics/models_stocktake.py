"""Stock-takes (盘点) of the retail units at a sorting station or the supermarket.

A sheet lists every batch on hand when it is opened. Staff enter the units they count; each count
remembers the book quantity at that moment (``book_at_count``), so sales, receipts and shipments
carry on while the count is open. After the county office approves, each line's difference —
``counted − book_at_count`` — is posted as a ``stocktake`` BatchMovement: the book then equals
what was counted plus whatever moved since the count, which is the only figure the shelf can have.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Facility, PackedBatch


class StockTake(models.Model):
    class Status(models.TextChoices):
        COUNTING = "counting", _("Counting")
        SUBMITTED = "submitted", _("Awaiting approval")
        POSTED = "posted", _("Approved and posted")
        CANCELLED = "cancelled", _("Cancelled")

    code = models.CharField(_("stock-take number"), max_length=40, unique=True)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="stocktakes", verbose_name=_("facility"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.COUNTING)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("opened by"))
    created_at = models.DateTimeField(_("opened at"), default=timezone.now)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("submitted by"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("approved by"))
    decided_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("stock-take")
        verbose_name_plural = _("stock-takes")

    def __str__(self) -> str:
        return self.code


class StockTakeLine(models.Model):
    stocktake = models.ForeignKey(StockTake, on_delete=models.CASCADE, related_name="lines", verbose_name=_("stock-take"))
    batch = models.ForeignKey(PackedBatch, on_delete=models.PROTECT, related_name="stocktake_lines", verbose_name=_("batch"))
    book_at_open = models.IntegerField(_("book units when opened"))
    counted = models.IntegerField(_("units counted"), null=True, blank=True)
    book_at_count = models.IntegerField(_("book units when counted"), null=True, blank=True)
    counted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("counted by"))
    counted_at = models.DateTimeField(_("counted at"), null=True, blank=True)
    posted_delta = models.IntegerField(_("units posted"), null=True, blank=True)

    class Meta:
        ordering = ["batch__sku__code", "batch__best_before", "batch_id"]
        verbose_name = _("stock-take line")
        verbose_name_plural = _("stock-take lines")
        constraints = [
            models.UniqueConstraint(fields=["stocktake", "batch"], name="stocktake_line_once_per_batch"),
            models.CheckConstraint(name="stocktake_counted_not_negative", condition=Q(counted__isnull=True) | Q(counted__gte=0)),
            models.CheckConstraint(
                name="stocktake_count_has_book", condition=Q(counted__isnull=True) | Q(book_at_count__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stocktake.code} · {self.batch.code}"

    @property
    def difference(self) -> int | None:
        """Units counted minus the book when counted (negative: missing), None until counted."""
        if self.counted is None or self.book_at_count is None:
            return None
        return self.counted - self.book_at_count
