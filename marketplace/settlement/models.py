"""Settlement: runs that split sold units' net revenue over the households whose produce was in
each batch, the lines they wrote (the idempotency guard of the income ledger), the dividends
(二次返利) they computed, the payouts owed to households, and the public money-flow snapshot.

A SettlementLine is unique per (order line, batch, household) for a sale and per (refund line,
household) for a refund, so running settlement twice, or resuming a run a worker was killed in,
can never attribute a fen twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from households.models import Household, SalesChannel
from logistics.models import PackedBatch
from marketplace.models import OrderLine, RefundLine


class SettlementRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Interrupted")

    class Phase(models.TextChoices):
        SALES = "sales", _("Sales")
        REFUNDS = "refunds", _("Refunds")
        DIVIDENDS = "dividends", _("Dividends and payouts")
        DONE = "done", _("Done")

    code = models.CharField(_("run code"), max_length=32, unique=True)
    cutoff = models.DateTimeField(_("settles everything paid before"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.RUNNING)
    phase = models.CharField(_("phase"), max_length=12, choices=Phase.choices, default=Phase.SALES)
    # Progress: units of work (order-line batches and refund lines) to settle, and settled so far.
    items_total = models.PositiveIntegerField(_("items to settle"), default=0)
    items_done = models.PositiveIntegerField(_("items settled"), default=0)
    chunks_done = models.PositiveIntegerField(_("chunks committed"), default=0)
    cursor = models.BigIntegerField(default=0, help_text="last order line / refund line id of the committed chunks")
    lines_written = models.PositiveIntegerField(_("settlement lines written"), default=0)
    sales_amount = models.DecimalField(_("sales attributed"), max_digits=14, decimal_places=2, default=0)
    refunds_amount = models.DecimalField(_("refunds reversed"), max_digits=14, decimal_places=2, default=0)
    dividend_amount = models.DecimalField(_("dividends"), max_digits=14, decimal_places=2, default=0)
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("settlement run")
        verbose_name_plural = _("settlement runs")
        constraints = [
            # One run at a time: a second start resumes the running one.
            models.UniqueConstraint(fields=["status"], condition=Q(status="running"), name="settlement_one_running_run"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.COMPLETED:
            return 100
        if not self.items_total:
            return 0
        return min(99, int(self.items_done * 100 / self.items_total))


class SettlementLine(models.Model):
    """One household's part of one order line's units from one batch (or of a refund of them)."""

    class Kind(models.TextChoices):
        SALE = "sale", _("Sale")
        REFUND = "refund", _("Refund")

    # Few indexes, chosen for the writes: each one costs every INSERT of a run. The partial unique
    # indexes below serve the "not yet settled" probes; (run, chunk) the ledger append per chunk.
    # The database checks run, refund line, (order line, batch) and (batch, household) once per
    # statement (core/statement_keys.py, migration 0005): a run inserts 100,000 lines a statement,
    # and checked row by row these keys were a third of its time.
    run = models.ForeignKey(SettlementRun, on_delete=models.PROTECT, related_name="lines", db_index=False, db_constraint=False)
    chunk = models.PositiveIntegerField()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # The database checks these three in pairs, not one by one: (order line, batch) must be one
    # of the order line's batches, (batch, household) one of the batch's shares — a stricter rule
    # than three existence checks.
    order_line = models.ForeignKey(
        OrderLine, on_delete=models.PROTECT, related_name="settlement_lines", db_index=False, db_constraint=False
    )
    batch = models.ForeignKey(
        PackedBatch, on_delete=models.PROTECT, related_name="settlement_lines", db_index=False, db_constraint=False
    )
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="settlement_lines", db_index=False, db_constraint=False
    )
    refund_line = models.ForeignKey(
        RefundLine, null=True, blank=True, on_delete=models.PROTECT, related_name="settlement_lines", db_index=False,
        db_constraint=False,
    )
    amount_fen = models.BigIntegerField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    date = models.DateField(help_text="the day of the sale (paid) or of the refund, county time")
    year = models.PositiveSmallIntegerField(help_text="the order's allocation year (its dividend rate)")
    produce = models.CharField(max_length=20, blank=True)
    channel = models.CharField(max_length=10, choices=SalesChannel.choices, default=SalesChannel.ONLINE, help_text="the order's sales channel")

    class Meta:
        ordering = ["id"]
        verbose_name = _("settlement line")
        verbose_name_plural = _("settlement lines")
        constraints = [
            models.UniqueConstraint(
                fields=["order_line", "batch", "household", "kind"], condition=Q(kind="sale"), name="settlement_sale_once"
            ),
            models.UniqueConstraint(fields=["refund_line", "household"], condition=Q(kind="refund"), name="settlement_refund_once"),
            models.CheckConstraint(
                name="settlement_refund_has_refund_line",
                condition=Q(kind="sale", refund_line__isnull=True) | Q(kind="refund", refund_line__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["run", "chunk"])]

    def __str__(self) -> str:
        return f"{self.order_line_id} · {self.household_id} · ¥{self.amount}"


class DividendLine(models.Model):
    """A household's dividend (二次返利) from one run: rate × attributed revenue, per allocation year
    (``produce`` stays blank: one line per household and year keeps the run's writes small)."""

    run = models.ForeignKey(SettlementRun, on_delete=models.PROTECT, related_name="dividends")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="dividend_lines")
    year = models.PositiveSmallIntegerField()
    produce = models.CharField(max_length=20, blank=True)
    attributed_fen = models.BigIntegerField()
    rate = models.DecimalField(max_digits=5, decimal_places=4)
    amount_fen = models.BigIntegerField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("dividend line")
        verbose_name_plural = _("dividend lines")
        constraints = [
            models.UniqueConstraint(fields=["run", "household", "year", "produce"], name="dividend_once_per_run"),
        ]

    def __str__(self) -> str:
        return f"{self.household} · {self.year} · ¥{self.amount}"


class Payout(models.Model):
    """What a run leaves owed to a household (its dividends, less any clawback carried), and
    whether it has been paid, how, by whom and when."""

    class Status(models.TextChoices):
        UNPAID = "unpaid", _("Unpaid")
        PAID = "paid", _("Paid")

    class Method(models.TextChoices):
        CASH = "cash", _("Cash")
        BANK_TRANSFER = "bank", _("Bank transfer")

    run = models.ForeignKey(SettlementRun, on_delete=models.PROTECT, related_name="payouts")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="payouts")
    amount = models.DecimalField(_("amount owed"), max_digits=12, decimal_places=2)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.UNPAID)
    method = models.CharField(_("method"), max_length=8, choices=Method.choices, blank=True)
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "household"]
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        constraints = [
            models.UniqueConstraint(fields=["run", "household"], name="payout_once_per_run"),
            models.CheckConstraint(name="payout_amount_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(
                name="payout_paid_has_method_and_time",
                condition=Q(status="unpaid", paid_at__isnull=True) | Q(status="paid", paid_at__isnull=False) & ~Q(method=""),
            ),
        ]
        indexes = [models.Index(fields=["status", "run"])]

    def __str__(self) -> str:
        return f"{self.household} · ¥{self.amount} · {self.get_status_display()}"


class MoneyFlowSnapshot(models.Model):
    """The public money-flow figures (aggregates only), refreshed by a task."""

    computed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # the cut-off: the figures are the ledgers as they stood at this instant
    as_of = models.DateTimeField(db_index=True)
    data = models.JSONField()

    class Meta:
        ordering = ["-as_of", "-id"]
        get_latest_by = "as_of"

    def __str__(self) -> str:
        return f"{timezone.localtime(self.as_of):%Y-%m-%d %H:%M}"
