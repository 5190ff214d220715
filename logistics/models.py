"""The supply chain: facilities of three tiers, produce and prices, intake, lots, shipments,
packing runs, packed batches and their composition, and stock as movement ledgers.

Stock of a lot (kg) at a facility is the sum of its LotMovement rows there; stock of a batch
(units) at a facility is kept in BatchStock (locked rows for checkout) and every change to it is
also a BatchMovement row, so ``reconcile`` can prove one against the other.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.ledger import AppendOnlyModel
from households.models import Household, Township, Village


class Facility(models.Model):
    class Kind(models.TextChoices):
        COLLECTION_POINT = "point", _("Collection point (收购点)")
        SORTING_STATION = "station", _("Sorting station (分拣站)")
        SUPERMARKET = "supermarket", _("Poverty-relief supermarket (扶贫超市)")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=80)
    township = models.ForeignKey(Township, null=True, blank=True, on_delete=models.PROTECT, related_name="facilities", verbose_name=_("township"))
    village = models.ForeignKey(Village, null=True, blank=True, on_delete=models.PROTECT, related_name="facilities", verbose_name=_("village"))
    served_villages = models.ManyToManyField(Village, blank=True, related_name="collection_points", verbose_name=_("villages served"))
    ships_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="suppliers", verbose_name=_("ships to"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")

    def __str__(self) -> str:
        return self.name


class StaffAssignment(models.Model):
    """A staff user works at one facility and acts only there."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_assignment", verbose_name=_("user"))
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="staff", verbose_name=_("facility"))

    class Meta:
        verbose_name = _("staff assignment")
        verbose_name_plural = _("staff assignments")

    def __str__(self) -> str:
        return f"{self.user} @ {self.facility}"


class Produce(models.Model):
    class Category(models.TextChoices):
        CHESTNUT = "chestnut", _("Chestnut (板栗)")
        WALNUT = "walnut", _("Walnut (核桃)")
        TEA = "tea", _("Tea (茶叶)")
        FUNGI = "fungi", _("Edible fungi (食用菌)")
        HONEY = "honey", _("Honey (蜂蜜)")
        OTHER = "other", _("Other (其他)")

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=30)
    category = models.CharField(_("category"), max_length=12, choices=Category.choices)

    class Meta:
        ordering = ["code"]
        verbose_name = _("produce")
        verbose_name_plural = _("produce")

    def __str__(self) -> str:
        return self.name


class Grade(models.Model):
    produce = models.ForeignKey(Produce, on_delete=models.PROTECT, related_name="grades", verbose_name=_("produce"))
    code = models.CharField(_("code"), max_length=12)  # premium / grade1 / grade2
    name = models.CharField(_("name"), max_length=20)
    rank = models.PositiveSmallIntegerField(default=0, verbose_name=_("display order"))

    class Meta:
        ordering = ["produce", "rank"]
        verbose_name = _("grade")
        verbose_name_plural = _("grades")
        constraints = [models.UniqueConstraint(fields=["produce", "code"], name="grade_code_unique_per_produce")]

    def __str__(self) -> str:
        return f"{self.produce.name}{self.name}"


class PurchasePrice(models.Model):
    """The county's purchase price per kg for a grade, in force from ``effective_from``."""

    wagtail_reference_index_ignore = True  # bulk-written records stay out of the reference index

    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="prices", verbose_name=_("grade"))
    price_per_kg = models.DecimalField(_("price per kg (yuan)"), max_digits=10, decimal_places=2)
    effective_from = models.DateField(_("effective from"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["grade", "-effective_from"]
        verbose_name = _("purchase price")
        verbose_name_plural = _("purchase prices")
        constraints = [
            models.UniqueConstraint(fields=["grade", "effective_from"], name="one_price_per_grade_and_day"),
            models.CheckConstraint(
                name="purchase_price_positive", condition=Q(price_per_kg__gt=0),
                violation_error_message=_("The price must be more than zero."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grade} ¥{self.price_per_kg}/kg · {self.effective_from:%Y-%m-%d}"


class Lot(models.Model):
    """Produce of one household, one grade, from one intake: the unit of traceability."""

    # Written in bulk by day-to-day work; Wagtail's reference index (snippet "usage") would add
    # a read and a write to every save once the admin has registered the model.
    wagtail_reference_index_ignore = True

    code = models.CharField(_("lot code"), max_length=32, unique=True)
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="lots", verbose_name=_("grade"))
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="lots", verbose_name=_("household"))
    origin = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="originated_lots", verbose_name=_("collection point"))
    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=10, decimal_places=3)
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        indexes = [models.Index(fields=["household", "created_at"])]

    def __str__(self) -> str:
        return self.code


class Intake(models.Model):
    """A purchase at a collection point (a Critical Tracking Event)."""

    wagtail_reference_index_ignore = True  # bulk-written records stay out of the reference index

    client_id = models.UUIDField(_("client id"), unique=True, default=uuid.uuid4)
    lot = models.OneToOneField(Lot, on_delete=models.PROTECT, related_name="intake", verbose_name=_("lot"))
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="intakes", verbose_name=_("household"))
    collection_point = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="intakes", verbose_name=_("collection point"))
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="intakes", verbose_name=_("grade"))
    weight_kg = models.DecimalField(_("net weight (kg)"), max_digits=10, decimal_places=3)
    unit_price = models.DecimalField(_("price per kg (yuan)"), max_digits=10, decimal_places=2)
    amount = models.DecimalField(_("amount paid (yuan)"), max_digits=12, decimal_places=2)
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="intakes", verbose_name=_("staff"))
    created_at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("weighed at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("intake")
        verbose_name_plural = _("intakes")
        indexes = [models.Index(fields=["collection_point", "created_at"])]
        constraints = [
            models.CheckConstraint(name="intake_weight_positive", condition=Q(weight_kg__gt=0)),
            models.CheckConstraint(name="intake_amount_not_negative", condition=Q(amount__gte=0)),
        ]

    def __str__(self) -> str:
        return f"{self.lot.code} · {self.household} · {self.weight_kg} kg"


class IntakeVoid(models.Model):
    intake = models.OneToOneField(Intake, on_delete=models.PROTECT, related_name="void", verbose_name=_("intake"))
    reason = models.CharField(_("reason"), max_length=200)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("voided by"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("voided at"))

    class Meta:
        verbose_name = _("intake void")
        verbose_name_plural = _("intake voids")

    def __str__(self) -> str:
        return _("Void of %(lot)s") % {"lot": self.intake.lot.code}


class CashAdvance(AppendOnlyModel):
    """Cash the county office hands to a collection point to pay households at the scale (+), or
    takes back (−). Append-only: a mistaken entry is corrected by an opposite one with a reason.
    The point's daily cash sheet (selectors/cash.py) adds the intakes it paid and the voids."""

    class Kind(models.TextChoices):
        ADVANCE = "advance", _("Cash advanced to the point")
        RETURN = "return", _("Cash returned to the county office")

    point = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="cash_advances", verbose_name=_("collection point"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.ADVANCE)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=12, decimal_places=2)
    note = models.CharField(_("note"), max_length=200, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by"))
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["point", "created_at", "id"]
        verbose_name = _("cash advance")
        verbose_name_plural = _("cash advances")
        indexes = [models.Index(fields=["point", "created_at"])]
        constraints = [
            models.CheckConstraint(
                name="cash_advance_amount_positive", condition=Q(amount__gt=0),
                violation_error_message=_("The amount must be more than zero."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.point} · {self.get_kind_display()} ¥{self.amount}"

    @property
    def signed_amount(self):
        return self.amount if self.kind == self.Kind.ADVANCE else -self.amount


class MovementKind(models.TextChoices):
    INTAKE = "intake", _("Intake")
    VOID = "void", _("Intake void")
    SHIP_OUT = "ship_out", _("Shipped out")
    RECEIVE = "receive", _("Received")
    LOSS = "loss", _("Loss")
    PACK_CONSUME = "pack", _("Consumed by packing")
    WASTE = "waste", _("Packing waste")
    PACKED = "packed", _("Packed (units produced)")
    RESERVE = "reserve", _("Reserved for an order")
    RELEASE = "release", _("Reservation released")
    SELL = "sell", _("Sold")
    RETURN = "return", _("Returned to stock")
    EXPIRED = "expired", _("Written off: past best-before")
    ADJUST = "adjust", _("Correction")
    STOCKTAKE = "stocktake", _("Stock-take difference")


class LotMovement(AppendOnlyModel):
    """Kilograms of a lot entering (+) or leaving (−) a facility. On hand = the sum."""

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="movements")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="lot_movements")
    kind = models.CharField(max_length=10, choices=MovementKind.choices)
    quantity_kg = models.DecimalField(max_digits=10, decimal_places=3)
    reference_type = models.CharField(max_length=20, blank=True)
    reference_code = models.CharField(max_length=40, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["facility", "lot"]), models.Index(fields=["lot", "facility"])]

    def __str__(self) -> str:
        return f"{self.lot.code} @ {self.facility} {self.quantity_kg:+} kg"


class Sku(models.Model):
    """A retail pack the stations produce (e.g. 镇安板栗 2.5 kg gift box); marketplace prices it."""

    code = models.CharField(_("SKU code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=80)
    produce = models.ForeignKey(Produce, on_delete=models.PROTECT, related_name="skus", verbose_name=_("produce"))
    grade = models.ForeignKey(Grade, null=True, blank=True, on_delete=models.PROTECT, related_name="skus", verbose_name=_("grade"))
    unit_weight_kg = models.DecimalField(_("net weight per unit (kg)"), max_digits=8, decimal_places=3)
    shelf_life_days = models.PositiveIntegerField(_("shelf life (days)"), default=365)

    class Meta:
        ordering = ["code"]
        verbose_name = _("SKU")
        verbose_name_plural = _("SKUs")

    def __str__(self) -> str:
        return self.name


class Shipment(models.Model):

    wagtail_reference_index_ignore = True  # bulk-written records stay out of the reference index
    class Status(models.TextChoices):
        DISPATCHED = "dispatched", _("Dispatched")
        RECEIVED = "received", _("Received")

    code = models.CharField(max_length=32, unique=True, verbose_name=_("shipment number"))
    origin = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="shipments_out", verbose_name=_("shipped from"))
    destination = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="shipments_in", verbose_name=_("shipped to"))
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DISPATCHED, verbose_name=_("status"))
    dispatched_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("dispatched by"))
    dispatched_at = models.DateTimeField(default=timezone.now, verbose_name=_("dispatched at"))
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("received by"))
    received_at = models.DateTimeField(null=True, blank=True, verbose_name=_("received at"))

    class Meta:
        ordering = ["-dispatched_at", "-id"]
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")

    def __str__(self) -> str:
        return self.code


class ShipmentLine(models.Model):
    """A lot (kg) or a batch (units) on a shipment; received ≤ dispatched, the rest is loss."""

    shipment = models.ForeignKey(Shipment, on_delete=models.PROTECT, related_name="lines")
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="shipment_lines")
    batch = models.ForeignKey("PackedBatch", null=True, blank=True, on_delete=models.PROTECT, related_name="shipment_lines")
    dispatched = models.DecimalField(max_digits=12, decimal_places=3)
    received = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    loss_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="shipment_line_lot_xor_batch",
                condition=(Q(lot__isnull=False, batch__isnull=True) | Q(lot__isnull=True, batch__isnull=False)),
            ),
            models.CheckConstraint(name="shipment_line_dispatched_positive", condition=Q(dispatched__gt=0)),
            models.CheckConstraint(
                name="shipment_line_received_le_dispatched",
                condition=Q(received__isnull=True) | Q(received__gte=0, received__lte=F("dispatched")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shipment.code} · {self.lot or self.batch}"


class PackingRun(models.Model):
    code = models.CharField(max_length=32, unique=True)
    station = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="packing_runs")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="packing_runs")
    waste_kg = models.DecimalField(max_digits=10, decimal_places=3, default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(name="packing_waste_not_negative", condition=Q(waste_kg__gte=0))]

    def __str__(self) -> str:
        return self.code


class PackingInput(models.Model):
    run = models.ForeignKey(PackingRun, on_delete=models.PROTECT, related_name="inputs")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="packing_inputs")
    quantity_kg = models.DecimalField(max_digits=10, decimal_places=3)

    class Meta:
        constraints = [
            models.CheckConstraint(name="packing_input_positive", condition=Q(quantity_kg__gt=0)),
            models.UniqueConstraint(fields=["run", "lot"], name="packing_input_once_per_lot"),
        ]

    def __str__(self) -> str:
        return f"{self.run.code} ← {self.lot.code} {self.quantity_kg} kg"


class PackedBatch(models.Model):

    wagtail_reference_index_ignore = True  # bulk-written records stay out of the reference index
    class Inspection(models.TextChoices):
        PENDING = "pending", _("Awaiting inspection")
        PASSED = "passed", _("Passed")
        FAILED = "failed", pgettext_lazy("inspection", "Failed")

    code = models.CharField(_("batch code"), max_length=32, unique=True)
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="batches", verbose_name=_("SKU"))
    station = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="packed_batches", verbose_name=_("sorting station"))
    packing_run = models.OneToOneField(PackingRun, on_delete=models.PROTECT, related_name="batch", verbose_name=_("packing run"))
    units = models.PositiveIntegerField(_("units packed"))
    unit_weight_kg = models.DecimalField(_("net weight per unit (kg)"), max_digits=8, decimal_places=3)
    best_before = models.DateField(_("best before"), db_index=True)  # the daily expiry sweep and FEFO read by it
    packed_at = models.DateTimeField(_("packed at"), db_index=True)
    inspection_status = models.CharField(max_length=10, choices=Inspection.choices, default=Inspection.PENDING, verbose_name=_("inspection"))
    on_hold = models.BooleanField(_("on hold (recall)"), default=False)
    hold_reason = models.CharField(max_length=200, blank=True, verbose_name=_("hold reason"))

    class Meta:
        ordering = ["packed_at", "id"]
        verbose_name = _("packed batch")
        verbose_name_plural = _("packed batches")
        constraints = [models.CheckConstraint(name="batch_units_positive", condition=Q(units__gt=0))]

    def __str__(self) -> str:
        return self.code


class QualityInspection(models.Model):
    batch = models.ForeignKey(PackedBatch, on_delete=models.PROTECT, related_name="inspections", verbose_name=_("batch"))
    passed = models.BooleanField(verbose_name=_("passed"))
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("inspector"))
    notes = models.TextField(blank=True, verbose_name=_("notes"))
    inspected_at = models.DateTimeField(default=timezone.now, verbose_name=_("inspected at"))

    def __str__(self) -> str:
        return f"{self.batch.code} · {_('passed') if self.passed else _('failed')}"


class BatchHoldEvent(AppendOnlyModel):
    """A recall put on (hold) or lifted (release), with the reason and who decided it."""

    class Action(models.TextChoices):
        HOLD = "hold", _("Put on hold")
        RELEASE = "release", _("Hold released")

    batch = models.ForeignKey(PackedBatch, on_delete=models.PROTECT, related_name="hold_events")
    action = models.CharField(max_length=10, choices=Action.choices)
    reason = models.CharField(_("reason"), max_length=200)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("hold event")
        verbose_name_plural = _("hold events")

    def __str__(self) -> str:
        return f"{self.batch.code} · {self.get_action_display()}"


class BatchShare(models.Model):
    """A household's share of a batch, by input weight, fixed at packing time."""

    batch = models.ForeignKey(PackedBatch, on_delete=models.PROTECT, related_name="shares")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="batch_shares")
    weight_kg = models.DecimalField(max_digits=12, decimal_places=3)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "household"], name="batch_share_once_per_household"),
            models.CheckConstraint(name="batch_share_positive", condition=Q(weight_kg__gt=0)),
        ]
        indexes = [models.Index(fields=["household", "batch"])]

    def __str__(self) -> str:
        return f"{self.batch.code} · {self.household}"


class BatchStock(models.Model):
    """Units of a batch at a facility: ``quantity`` on hand (reserved included), ``reserved`` for
    orders not yet completed. Checkout locks these rows; the database refuses negatives."""

    batch = models.ForeignKey(PackedBatch, on_delete=models.PROTECT, related_name="stock")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="batch_stock")
    quantity = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "facility"], name="batch_stock_once_per_facility"),
            models.CheckConstraint(name="batch_stock_quantity_not_negative", condition=Q(quantity__gte=0)),
            models.CheckConstraint(
                name="batch_stock_reserved_within_quantity", condition=Q(reserved__gte=0, reserved__lte=F("quantity"))
            ),
        ]
        indexes = [models.Index(fields=["facility", "batch"])]

    def __str__(self) -> str:
        return f"{self.batch.code} @ {self.facility}"

    @property
    def available(self) -> int:
        return self.quantity - self.reserved


class BatchMovement(AppendOnlyModel):
    """Every change to a BatchStock row, signed (quantity and reserved deltas)."""

    batch = models.ForeignKey(PackedBatch, on_delete=models.PROTECT, related_name="movements")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="batch_movements")
    kind = models.CharField(max_length=10, choices=MovementKind.choices)
    quantity_delta = models.IntegerField(default=0)
    reserved_delta = models.IntegerField(default=0)
    reference_type = models.CharField(max_length=20, blank=True)
    reference_code = models.CharField(max_length=40, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["batch", "facility"])]

    def __str__(self) -> str:
        return f"{self.batch.code} @ {self.facility} {self.quantity_delta:+d}"


# Stock-takes (盘点) live in their own module; imported here so Django registers them.
from .models_stocktake import StockTake, StockTakeLine  # noqa: E402,F401
