"""The love-points supermarket (爱心超市): the county's point rules, the villages' monthly reviews
(评议), the households' points ledger, and each village's own small stock of goods.

Love points never touch the produce chain: this app depends on households (and core) only.

Books kept here, all append-only (a correction is a reversing row with a reason and an author):
- ``Award`` — one category ticked for one household in one month's review. It counts towards the
  household's balance once the county office has approved that village's month.
- ``PointsEntry`` — the household's points ledger: approved awards (one entry per award when its
  month is approved, or when a correction is made after approval) and redemptions, each with the
  running ``balance_after``. ``PointsAccount`` holds the current balance behind a row lock and a
  CHECK (balance >= 0), so two redemptions at once can never take it below zero.
- ``GoodsMovement`` — goods in, given out, counted at a stock-take; ``GoodsItem.on_hand`` is the
  counter (CHECK >= 0) and the movements add up to it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting

from core.ledger import AppendOnlyModel
from households.models import Household, Village


class RuleSet(models.Model):
    """The county's point rules from a date on: categories with their points and a monthly cap per
    household. A month's review uses the rules in force on the month's first day; a later rule set
    never changes an award already made (the award keeps its points)."""

    effective_from = models.DateField(_("effective from"), unique=True)
    monthly_cap = models.PositiveIntegerField(_("monthly cap per household (points)"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_from"]
        verbose_name = _("love-points rule set")
        verbose_name_plural = _("love-points rule sets")
        constraints = [models.CheckConstraint(name="lovepoints_cap_positive", condition=Q(monthly_cap__gt=0))]

    def __str__(self) -> str:
        return _("Rules from %(date)s (cap %(cap)s points)") % {"date": self.effective_from.isoformat(), "cap": self.monthly_cap}


class Category(models.Model):
    """One review category (勤劳致富, 孝老爱亲…) of a rule set, with the points it awards."""

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="categories", verbose_name=_("rule set"))
    code = models.SlugField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=40)
    points = models.PositiveIntegerField(_("points"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["rule_set", "position", "code"]
        verbose_name = _("review category")
        verbose_name_plural = _("review categories")
        constraints = [
            models.UniqueConstraint(fields=["rule_set", "code"], name="lovepoints_category_code_unique"),
            models.CheckConstraint(name="lovepoints_category_points_positive", condition=Q(points__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.points}）"


class VillageStaff(models.Model):
    """Which village a village-staff login works for (the role says what, this says where)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="village_assignment")
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="love_points_staff", verbose_name=_("village"))

    class Meta:
        verbose_name = _("village staff assignment")
        verbose_name_plural = _("village staff assignments")

    def __str__(self) -> str:
        return f"{self.user} @ {self.village}"


class ReviewMonth(models.Model):
    """A village's monthly review (评议): entered by the village, approved by the county office.
    Awards count towards balances only once their month is approved."""

    class Status(models.TextChoices):
        OPEN = "open", _("Being entered")
        SUBMITTED = "submitted", _("Awaiting approval")
        APPROVED = "approved", _("Approved")

    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="love_points_months", verbose_name=_("village"))
    month = models.DateField(_("month"), help_text=_("the first day of the month"))
    rule_set = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="+", verbose_name=_("rule set"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-month", "village"]
        verbose_name = _("village monthly review")
        verbose_name_plural = _("village monthly reviews")
        constraints = [
            models.UniqueConstraint(fields=["village", "month"], name="lovepoints_review_once_per_village_month"),
            models.CheckConstraint(name="lovepoints_review_month_first_day", condition=Q(month__day=1)),
        ]

    def __str__(self) -> str:
        return _("%(village)s, %(month)s") % {"village": self.village, "month": self.month.strftime("%Y-%m")}

    @property
    def approved(self) -> bool:
        return self.status == self.Status.APPROVED


class Award(AppendOnlyModel):
    """A category ticked for a household in a month's review; a correction is a reversing award
    (negative points, ``reverses`` set, with a reason)."""

    review = models.ForeignKey(ReviewMonth, on_delete=models.PROTECT, related_name="awards", verbose_name=_("review"))
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="love_point_awards", verbose_name=_("household"))
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+", verbose_name=pgettext_lazy("love points", "category"))
    points = models.IntegerField(_("points"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    client_id = models.UUIDField(_("client id"), null=True, blank=True, unique=True)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by", verbose_name=_("reverses")
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("entered by"))
    created_at = models.DateTimeField(_("entered at"), auto_now_add=True)

    class Meta:
        ordering = ["review", "household", "id"]
        verbose_name = _("love-points award")
        verbose_name_plural = _("love-points awards")
        indexes = [models.Index(fields=["household", "review"])]
        constraints = [
            models.CheckConstraint(
                name="lovepoints_award_sign",
                condition=(Q(reverses__isnull=True, points__gt=0) | Q(reverses__isnull=False, points__lt=0)),
            ),
            models.CheckConstraint(name="lovepoints_award_reversal_reason", condition=Q(reverses__isnull=True) | ~Q(reason="")),
        ]

    def __str__(self) -> str:
        return f"{self.household.number} {self.category.name} {self.points:+d}"


class PointsAccount(models.Model):
    """The household's current balance, the row a redemption locks. Counters kept by the services
    in the same transaction as the ledger rows; ``reconcile`` checks them against the ledger."""

    household = models.OneToOneField(Household, on_delete=models.PROTECT, related_name="love_points", primary_key=True)
    earned = models.IntegerField(_("points earned"), default=0)
    redeemed = models.IntegerField(_("points redeemed"), default=0)
    balance = models.IntegerField(_("balance"), default=0)

    class Meta:
        verbose_name = _("love-points account")
        verbose_name_plural = _("love-points accounts")
        constraints = [
            models.CheckConstraint(name="lovepoints_balance_not_negative", condition=Q(balance__gte=0)),
            models.CheckConstraint(name="lovepoints_balance_is_earned_less_redeemed", condition=Q(balance=models.F("earned") - models.F("redeemed"))),
        ]

    def __str__(self) -> str:
        return f"{self.household_id}: {self.balance}"


class PointsEntry(AppendOnlyModel):
    """The household's points ledger: + approved awards (and − their corrections), − redemptions."""

    class Kind(models.TextChoices):
        AWARD = "award", _("Award")
        REDEMPTION = "redemption", _("Redemption")

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="love_point_entries", verbose_name=_("household"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    points = models.IntegerField(_("points"))
    balance_after = models.IntegerField(_("balance after"))
    month = models.DateField(_("month"))
    award = models.OneToOneField(Award, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entry")
    redemption = models.ForeignKey("Redemption", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["household", "id"]
        verbose_name = _("love-points entry")
        verbose_name_plural = _("love-points entries")
        indexes = [models.Index(fields=["household", "month"]), models.Index(fields=["month", "kind"])]
        constraints = [
            models.CheckConstraint(name="lovepoints_entry_balance_not_negative", condition=Q(balance_after__gte=0)),
            models.CheckConstraint(
                name="lovepoints_entry_has_its_document",
                condition=(Q(kind="award", award__isnull=False, redemption__isnull=True)
                           | Q(kind="redemption", award__isnull=True, redemption__isnull=False, points__lt=0)),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.kind} {self.points:+d}"


class GoodsItem(models.Model):
    """An item of a village's love-points supermarket, priced in points."""

    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="love_point_goods", verbose_name=_("village"))
    name = models.CharField(_("name"), max_length=60)
    unit = models.CharField(_("unit"), max_length=10, default="件")
    points_price = models.PositiveIntegerField(_("price (points)"))
    on_hand = models.IntegerField(_("on hand"), default=0)
    active = models.BooleanField(_("offered"), default=True)

    class Meta:
        ordering = ["village", "name"]
        verbose_name = _("love-points goods item")
        verbose_name_plural = _("love-points goods")
        constraints = [
            models.UniqueConstraint(fields=["village", "name"], name="lovepoints_item_name_unique_in_village"),
            models.CheckConstraint(name="lovepoints_item_on_hand_not_negative", condition=Q(on_hand__gte=0)),
            models.CheckConstraint(name="lovepoints_item_price_positive", condition=Q(points_price__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.points_price}分/{self.unit}）"


class Redemption(AppendOnlyModel):
    """Goods taken for points at the village's counter; once per ``client_id``."""

    client_id = models.UUIDField(_("client id"), unique=True)
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="love_point_redemptions", verbose_name=_("household"))
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+", verbose_name=_("village"))
    points = models.PositiveIntegerField(_("points"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("served by"))
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("love-points redemption")
        verbose_name_plural = _("love-points redemptions")
        constraints = [models.CheckConstraint(name="lovepoints_redemption_points_positive", condition=Q(points__gt=0))]

    def __str__(self) -> str:
        return _("Redemption %(id)s: %(points)s points") % {"id": self.pk, "points": self.points}


class RedemptionLine(AppendOnlyModel):
    redemption = models.ForeignKey(Redemption, on_delete=models.PROTECT, related_name="lines")
    item = models.ForeignKey(GoodsItem, on_delete=models.PROTECT, related_name="+", verbose_name=_("item"))
    quantity = models.PositiveIntegerField(_("quantity"))
    points_each = models.PositiveIntegerField(_("points each"))

    class Meta:
        ordering = ["redemption", "id"]
        verbose_name = _("redemption line")
        verbose_name_plural = _("redemption lines")
        constraints = [models.CheckConstraint(name="lovepoints_line_quantity_positive", condition=Q(quantity__gt=0))]

    def __str__(self) -> str:
        return f"{self.item.name} × {self.quantity}"


class GoodsMovement(AppendOnlyModel):
    """Goods in (received: donated or bought), out (redeemed), or a stock-take difference."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Goods in")
        REDEMPTION = "redemption", _("Given out for points")
        STOCKTAKE = "stocktake", _("Stock-take difference")

    item = models.ForeignKey(GoodsItem, on_delete=models.PROTECT, related_name="movements", verbose_name=_("item"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    quantity = models.IntegerField(_("quantity"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    redemption_line = models.OneToOneField(RedemptionLine, null=True, blank=True, on_delete=models.PROTECT, related_name="movement")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item", "id"]
        verbose_name = _("goods movement")
        verbose_name_plural = _("goods movements")
        constraints = [
            models.CheckConstraint(name="lovepoints_movement_not_zero", condition=~Q(quantity=0)),
            models.CheckConstraint(
                name="lovepoints_movement_sign",
                condition=(Q(kind="receipt", quantity__gt=0) | Q(kind="redemption", quantity__lt=0, redemption_line__isnull=False)
                           | Q(kind="stocktake")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item.name} {self.kind} {self.quantity:+d}"


@register_setting(icon="tasks")
class LovePointsSettings(BaseGenericSetting):
    """What the county switches on for love points."""

    watch_no_points = models.BooleanField(
        _("put households with no love points in the watch period on the watch list"), default=False,
        help_text=_("A household that earned points before but none in the watch list's period (3 months by default) is listed."),
    )

    class Meta:
        verbose_name = _("love-points settings")
