"""The household registry (townships, villages, households) and the household income ledger.

households/ depends on no other app of ours: ledger entries name their source by a type and a
code (``intake``/lot code, ``sale``/order number…), so any app can write here through
``households.services.income_entry_record`` without this app knowing it.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.ledger import AppendOnlyModel

from .validators import validate_id_number, validate_phone


class Township(models.Model):
    class Kind(models.TextChoices):
        TOWN = "town", _("Town (镇)")
        SUBDISTRICT = "subdistrict", _("Subdistrict (街道)")

    code = models.CharField(_("code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=50, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.TOWN)

    class Meta:
        ordering = ["code"]
        verbose_name = _("township")
        verbose_name_plural = _("townships")

    def __str__(self) -> str:
        return self.name


class Village(models.Model):
    township = models.ForeignKey(Township, on_delete=models.PROTECT, related_name="villages", verbose_name=_("township"))
    code = models.CharField(_("code"), max_length=15, unique=True)
    name = models.CharField(_("name"), max_length=50)

    class Meta:
        ordering = ["code"]
        verbose_name = _("village")
        verbose_name_plural = _("villages")
        constraints = [models.UniqueConstraint(fields=["township", "name"], name="village_name_unique_in_township")]

    def __str__(self) -> str:
        return self.name


class LabourClass(models.TextChoices):
    """户分三类: labour capacity."""

    ABLE = "able", _("Able to work (有劳动能力)")
    WEAK = "weak", _("Weak labour (弱劳动能力)")
    NONE = "none", _("No labour (无劳动能力)")


class SubClass(models.TextChoices):
    """The six sub-classes; each belongs to exactly one labour class (SUBCLASSES_OF)."""

    ASSURED = "assured", _("放心户 (assured)")
    LACKING = "lacking", _("缺项户 (lacking an item)")
    EXITABLE = "exitable", _("可脱户 (can exit)")
    BOTTOM = "bottom", _("沉底户 (bottom)")
    SUPPORTED = "supported", _("特困供养户 (extreme-poverty support)")
    SAFETY_NET = "safety_net", _("兜底低保户 (subsistence safety net)")


SUBCLASSES_OF = {
    LabourClass.ABLE: (SubClass.ASSURED, SubClass.LACKING),
    LabourClass.WEAK: (SubClass.EXITABLE, SubClass.BOTTOM),
    LabourClass.NONE: (SubClass.SUPPORTED, SubClass.SAFETY_NET),
}


class PovertyStatus(models.TextChoices):
    IN_POVERTY = "in_poverty", _("In poverty (未脱贫)")
    LIFTED = "lifted", _("Lifted (已脱贫)")
    MONITORING = "monitoring", _("Under monitoring (监测户)")


# The six at-risk groups of the county's watch ledgers (六类重点人群). Five are recorded flags;
# the sixth (2014/2015 脱贫户) follows from the lifted year.
RISK_FLAGS = {
    "flag_illness_disability": _("大病残疾户 (serious illness or disability)"),
    "flag_elderly_alone": _("独居老人户 (elderly living alone)"),
    "flag_relocated_commuting": _("两头跑搬迁户 (relocated, commuting both ways)"),
    "flag_income_decline": _("收入下降户 (income declining)"),
    "flag_marginal": _("边缘户 (marginal)"),
}
EARLY_LIFTED_YEARS = (2014, 2015)


class HouseholdQuerySet(models.QuerySet):
    def early_lifted(self):
        return self.filter(poverty_status=PovertyStatus.LIFTED, lifted_year__in=EARLY_LIFTED_YEARS)


class Household(models.Model):

    # Written in bulk by day-to-day work; Wagtail's reference index (snippet "usage") would add
    # a read and a write to every save once the admin has registered the model.
    wagtail_reference_index_ignore = True
    number = models.CharField(_("registry number"), max_length=20, unique=True)
    head_name = models.CharField(_("head of household"), max_length=50)
    id_number = models.CharField(_("resident ID number"), max_length=18, validators=[validate_id_number])
    phone = models.CharField(_("mobile phone"), max_length=11, blank=True, validators=[validate_phone])
    members = models.PositiveSmallIntegerField(_("members"), default=1)
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="households", verbose_name=_("village"))
    labour_class = models.CharField(_("labour capacity class"), max_length=10, choices=LabourClass.choices)
    sub_class = models.CharField(_("sub-class"), max_length=12, choices=SubClass.choices)
    poverty_status = models.CharField(
        _("poverty status"), max_length=12, choices=PovertyStatus.choices, default=PovertyStatus.IN_POVERTY
    )
    lifted_year = models.PositiveSmallIntegerField(_("year lifted"), null=True, blank=True)
    flag_illness_disability = models.BooleanField(RISK_FLAGS["flag_illness_disability"], default=False)
    flag_elderly_alone = models.BooleanField(RISK_FLAGS["flag_elderly_alone"], default=False)
    flag_relocated_commuting = models.BooleanField(RISK_FLAGS["flag_relocated_commuting"], default=False)
    flag_income_decline = models.BooleanField(RISK_FLAGS["flag_income_decline"], default=False)
    flag_marginal = models.BooleanField(RISK_FLAGS["flag_marginal"], default=False)
    payout_bank = models.CharField(_("payout bank"), max_length=50, blank=True)
    payout_account = models.CharField(_("payout account"), max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        ordering = ["number"]
        verbose_name = _("household")
        verbose_name_plural = _("households")
        indexes = [models.Index(fields=["village", "number"]), models.Index(fields=["head_name"])]
        constraints = [
            models.CheckConstraint(
                name="household_subclass_matches_class",
                condition=(
                    Q(labour_class=LabourClass.ABLE, sub_class__in=[SubClass.ASSURED, SubClass.LACKING])
                    | Q(labour_class=LabourClass.WEAK, sub_class__in=[SubClass.EXITABLE, SubClass.BOTTOM])
                    | Q(labour_class=LabourClass.NONE, sub_class__in=[SubClass.SUPPORTED, SubClass.SAFETY_NET])
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.head_name}"

    @property
    def flag_early_lifted(self) -> bool:
        """2014/2015 脱贫户: follows from the lifted year."""
        return self.poverty_status == PovertyStatus.LIFTED and self.lifted_year in EARLY_LIFTED_YEARS

    def clean(self) -> None:
        errors = {}
        if self.labour_class and self.sub_class:
            allowed = SUBCLASSES_OF.get(self.labour_class, ())
            if self.sub_class not in allowed:
                errors["sub_class"] = _("Sub-class %(sub)s does not belong to the class %(cls)s.") % {
                    "sub": SubClass(self.sub_class).label,
                    "cls": LabourClass(self.labour_class).label,
                }
        if self.poverty_status == PovertyStatus.LIFTED and not self.lifted_year:
            errors["lifted_year"] = _("A lifted household needs the year it was lifted.")
        if self.poverty_status == PovertyStatus.IN_POVERTY and self.lifted_year:
            errors["lifted_year"] = _("A household still in poverty has no lifted year.")
        if errors:
            raise ValidationError(errors)


class IncomeKind(models.TextChoices):
    INTAKE = "intake", _("Intake payment (收购款)")
    SALES = "sales", _("Attributed sales revenue (销售收入)")
    DIVIDEND = "dividend", _("Dividend (二次返利)")


class SalesChannel(models.TextChoices):
    """How the produce was sold: the channel a sale's income entry carries (one home for the
    choices; ``marketplace.Order.channel`` uses them). Intake payments and dividends have none."""

    ONLINE = "online", _("Online")
    COUNTER = "counter", _("Counter")
    CANTEEN = "canteen", _("Canteen")


class IncomeEntry(AppendOnlyModel):
    """One line of a household's income from the channel. Never edited: reversals are new lines."""

    # No index of its own: (household, date) below serves every lookup by household, and each
    # index costs every append (settlement writes a million entries a year).
    # The database checks household, reverses and author once per statement, not row by row
    # (core/statement_keys.py, migration 0010): settlement appends 100,000 entries a statement.
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="income_entries", db_index=False, db_constraint=False
    )
    kind = models.CharField(_("kind"), max_length=10, choices=IncomeKind.choices)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=12, decimal_places=2)
    date = models.DateField(_("date"))
    produce = models.CharField(_("produce"), max_length=20, blank=True, help_text=_("produce code, e.g. chestnut"))
    channel = models.CharField(
        _("sales channel"), max_length=10, choices=SalesChannel.choices, blank=True, default="",
        help_text=_("for attributed sales revenue: online, counter or canteen"),
    )
    source_type = models.CharField(_("source type"), max_length=20)
    source_code = models.CharField(_("source code"), max_length=64)
    source_detail = models.JSONField(_("source detail"), default=dict, blank=True)
    # Reversed at most once (income_entry_reversed_once below): a unique index of the entries
    # that reverse one, not of every entry's empty column — a million a year that settlement
    # would add to it for nothing.
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by", verbose_name=_("reverses"),
        db_index=False, db_constraint=False,
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    # Indexed only where set (below): settlement, intake and dividends write entries without one.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False,
        db_constraint=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["household", "date", "id"]
        verbose_name = _("income entry")
        verbose_name_plural = _("income entries")
        indexes = [
            models.Index(fields=["household", "date"]),
            # Finds a lot's intake entries to void them (logistics' intake_void); the ledger's
            # other sources (settlement's sales and refunds, dividends) are never looked up by
            # code, and indexing them cost every settlement line's entry an index insert.
            models.Index(
                fields=["source_type", "source_code"], condition=Q(source_type="lot"), name="income_entry_lot_source"
            ),
            models.Index(fields=["date", "kind"]),
            models.Index(fields=["author"], condition=Q(author__isnull=False), name="income_entry_author_set"),
        ]
        constraints = [
            models.CheckConstraint(
                name="income_reversal_has_reason", condition=Q(reverses__isnull=True) | ~Q(reason="")
            ),
            models.UniqueConstraint(
                fields=["reverses"], condition=Q(reverses__isnull=False), name="income_entry_reversed_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.kind} {self.amount}"

    @property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None


class IncomeMonth(models.Model):
    """The income ledger summed per household, month, kind, produce and sales channel: what the
    reports read instead of grouping the whole ledger. Kept by the ledger's writers
    (households/services.py) in the transaction that appends the entries, so it always equals a
    GROUP BY over IncomeEntry; ``reconcile`` checks that and can rebuild it (households/summary.py).
    """

    # the key (household, month, …) serves lookups by household: no index of its own
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+", verbose_name=_("household"), db_index=False)
    month = models.DateField(_("month"), help_text=_("the first day of the month"))
    kind = models.CharField(_("kind"), max_length=10, choices=IncomeKind.choices)
    produce = models.CharField(_("produce"), max_length=20, blank=True)
    channel = models.CharField(_("channel"), max_length=10, blank=True)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)
    entries = models.IntegerField(_("entries"))

    class Meta:
        verbose_name = _("monthly income")
        verbose_name_plural = _("monthly income")
        constraints = [
            models.UniqueConstraint(fields=["household", "month", "kind", "produce", "channel"], name="income_month_key"),
        ]
        indexes = [models.Index(fields=["month", "household"])]

    def __str__(self) -> str:
        return f"{self.household_id} {self.month:%Y-%m} {self.kind} {self.produce} {self.channel} {self.amount}"


ZERO = Decimal("0.00")


class WatchListEntry(models.Model):
    """A household found on the income-decline watch list (收入下降户) by the monthly check,
    with the evidence: income in the period against the same period a year before."""

    wagtail_reference_index_ignore = True  # bulk-written records stay out of the reference index

    class Reason(models.TextChoices):
        DECLINE = "decline", _("Income fell")
        STOPPED = "stopped", _("Stopped delivering")
        NO_POINTS = "no_points", _("No love points in the period")

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="watch_entries", verbose_name=_("household"))
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    income = models.DecimalField(_("income in period"), max_digits=12, decimal_places=2)
    income_year_before = models.DecimalField(_("income a year before"), max_digits=12, decimal_places=2)
    drop_share = models.DecimalField(_("drop (share)"), max_digits=6, decimal_places=4, null=True, blank=True)
    computed_at = models.DateTimeField(auto_now_add=True, verbose_name=_("computed at"))

    class Meta:
        ordering = ["-period_end", "household"]
        verbose_name = _("watch-list entry")
        verbose_name_plural = _("watch-list entries")
        constraints = [
            models.UniqueConstraint(fields=["household", "period_start", "period_end"], name="watch_entry_once_per_period"),
        ]

    def __str__(self) -> str:
        return f"{self.household} · {self.get_reason_display()} · {self.period_start:%Y-%m-%d}–{self.period_end:%Y-%m-%d}"
