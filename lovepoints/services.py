"""The only writers of love points: rules, reviews and awards, approvals, redemptions, goods.

Lock order, the same in every function here, so two transactions never wait on each other in a
circle: the review month → the households' ``PointsAccount`` rows in primary-key order → the goods
items in primary-key order. Every check is made after the locks are held; every problem found is
collected and raised in one error.
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ConflictError, DomainError
from households.models import Household, Village

from . import access
from .models import (
    Award,
    Category,
    GoodsItem,
    GoodsMovement,
    PointsAccount,
    PointsEntry,
    Redemption,
    RedemptionLine,
    ReviewMonth,
    RuleSet,
)

# --- errors ------------------------------------------------------------------------------------


class LovePointsError(DomainError):
    code = "love_points_invalid"


class NoRulesInForce(LovePointsError):
    code = "no_rules_in_force"


class OutsideVillage(LovePointsError):
    code = "outside_village"


class OverMonthlyCap(LovePointsError):
    code = "over_monthly_cap"


class ReviewClosed(ConflictError):
    code = "review_closed"


class AlreadyAwarded(ConflictError):
    code = "already_awarded"


class ClientIdConflict(ConflictError):
    code = "client_id_conflict"


class InsufficientPoints(ConflictError):
    code = "insufficient_points"

    def __init__(self, message: str, *, balance: int, needed: int):
        super().__init__(message)
        self.balance = balance
        self.needed = needed

    def as_dict(self) -> dict:
        return {**super().as_dict(), "balance": self.balance, "needed": self.needed}


class InsufficientGoods(ConflictError):
    code = "insufficient_goods"


# --- helpers -----------------------------------------------------------------------------------


def month_of(value) -> datetime.date:
    """A month given as a date or as ``YYYY-MM`` → its first day; refuses anything else."""
    if isinstance(value, datetime.date):
        return value.replace(day=1)
    text = str(value or "").strip()
    try:
        year, month = text.split("-")
        if len(year) != 4 or not 1 <= len(month) <= 2 or not (year.isascii() and month.isascii()):
            raise ValueError
        day = datetime.date(int(year), int(month), 1)
    except ValueError:
        raise LovePointsError(_("A month is written as YYYY-MM, e.g. 2026-11 (got %(value)s).") % {"value": text[:20]}) from None
    if not 2000 <= day.year <= 2100:
        raise LovePointsError(_("The month %(value)s is out of range.") % {"value": text[:20]})
    return day


def county_today() -> datetime.date:
    return timezone.localdate()


def rule_set_in_force(month: datetime.date) -> RuleSet:
    """The rules in force on the month's first day."""
    found = RuleSet.objects.filter(effective_from__lte=month.replace(day=1)).order_by("-effective_from").first()
    if found is None:
        raise NoRulesInForce(_("No love-points rules are in force for %(month)s: the county office sets them first.")
                             % {"month": month.strftime("%Y-%m")})
    return found


def _account_locked_many(household_ids: Iterable[int]) -> dict[int, PointsAccount]:
    """Lock (creating where missing) the households' accounts, in primary-key order."""
    ids = sorted(set(household_ids))
    existing = set(PointsAccount.objects.filter(household_id__in=ids).values_list("household_id", flat=True))
    missing = [i for i in ids if i not in existing]
    if missing:
        PointsAccount.objects.bulk_create([PointsAccount(household_id=i) for i in missing], ignore_conflicts=True)
    return {a.household_id: a for a in PointsAccount.objects.select_for_update().filter(household_id__in=ids).order_by("pk")}


def _ledger_append(*, account: PointsAccount, kind: str, points: int, month: datetime.date, author,
                   award: Award | None = None, redemption: Redemption | None = None) -> PointsEntry:
    """Append one ledger row and move the (locked) account's counters with it."""
    if account.balance + points < 0:
        raise InsufficientPoints(
            _("Household %(number)s has %(balance)s points; this needs %(needed)s.")
            % {"number": account.household.number, "balance": account.balance, "needed": -points},
            balance=account.balance, needed=-points,
        )
    if kind == PointsEntry.Kind.AWARD:
        account.earned += points
    else:
        account.redeemed += -points
    account.balance += points
    PointsAccount.objects.filter(pk=account.pk).update(earned=account.earned, redeemed=account.redeemed, balance=account.balance)
    return PointsEntry.objects.create(
        household_id=account.household_id, kind=kind, points=points, balance_after=account.balance, month=month,
        award=award, redemption=redemption, author=author,
    )


# --- rules ---------------------------------------------------------------------------------------


@transaction.atomic
def rule_set_create(*, effective_from: datetime.date, monthly_cap: int, categories: Sequence[tuple[str, str, int]], author) -> RuleSet:
    """New rules from a date on (the county office). Months already reviewed keep their rules."""
    access.require_county_office(author)
    problems = []
    if monthly_cap <= 0:
        problems.append(_("The monthly cap must be more than zero."))
    if not categories:
        problems.append(_("A rule set needs at least one category."))
    codes = [c[0] for c in categories]
    if len(codes) != len(set(codes)):
        problems.append(_("Each category code may appear only once."))
    if any(points <= 0 for _code, _name, points in categories):
        problems.append(_("Each category awards more than zero points."))
    if RuleSet.objects.filter(effective_from=effective_from).exists():
        problems.append(_("There are already rules from %(date)s.") % {"date": effective_from.isoformat()})
    if ReviewMonth.objects.filter(month__gte=effective_from.replace(day=1)).exclude(status=ReviewMonth.Status.OPEN).exists():
        problems.append(_("Months from %(date)s on have already been reviewed; new rules can start only after them.")
                        % {"date": effective_from.isoformat()})
    if problems:
        raise LovePointsError(problems[0], problems=problems)
    rules = RuleSet.objects.create(effective_from=effective_from, monthly_cap=monthly_cap, created_by=author)
    Category.objects.bulk_create([
        Category(rule_set=rules, code=code, name=name, points=points, position=i) for i, (code, name, points) in enumerate(categories)
    ])
    # Open months not yet submitted follow the new rules.
    ReviewMonth.objects.filter(month__gte=effective_from.replace(day=1), status=ReviewMonth.Status.OPEN, awards__isnull=True).update(rule_set=rules)
    return rules


# --- reviews and awards --------------------------------------------------------------------------


def review_month_open(*, village: Village, month: datetime.date) -> ReviewMonth:
    """The village's review of ``month`` (opened with the rules then in force on first use)."""
    month = month.replace(day=1)
    found = ReviewMonth.objects.filter(village=village, month=month).first()
    if found:
        return found
    if month > county_today().replace(day=1):
        raise LovePointsError(_("%(month)s has not begun: a month is reviewed once it has started.") % {"month": month.strftime("%Y-%m")})
    rules = rule_set_in_force(month)
    try:
        with transaction.atomic():
            return ReviewMonth.objects.create(village=village, month=month, rule_set=rules)
    except IntegrityError:
        return ReviewMonth.objects.get(village=village, month=month)


@dataclass(frozen=True)
class AwardRequest:
    household: Household
    month: datetime.date
    category_code: str
    points: int | None = None
    note: str = ""
    client_id: uuid.UUID | None = None


def _net_points(review: ReviewMonth, household_id: int) -> dict[int, int]:
    """category id → net points awarded this household in this review (awards less corrections)."""
    rows = Award.objects.filter(review=review, household_id=household_id).values("category_id").annotate(net=Sum("points"))
    return {r["category_id"]: r["net"] or 0 for r in rows}


def _same_award(existing: Award, req: AwardRequest, points: int) -> bool:
    return (existing.household_id == req.household.pk and existing.review.month == req.month
            and existing.category.code == req.category_code and existing.points == points and existing.note == req.note)


def award_record(*, author, household: Household, month, category_code: str, points: int | None = None,
                 note: str = "", client_id=None) -> tuple[Award, bool]:
    """Award a household the points of one category in one month's review, as its village's staff.

    Returns (award, created). The same ``client_id`` with the same content returns the first award;
    with other content it is refused. Refused: outside the author's village, a month not open for
    entry, a category already awarded this month, points above the category's, above the cap.
    """
    month = month_of(month)
    note = (note or "").strip()[:200]
    client_id = uuid.UUID(str(client_id)) if client_id else None
    req = AwardRequest(household=household, month=month, category_code=category_code, points=points, note=note, client_id=client_id)
    village = access.require_village_staff(author)
    if household.village_id != village.pk:
        raise OutsideVillage(_("Household %(number)s is not in %(village)s: a village reviews only its own households.")
                             % {"number": household.number, "village": village.name})
    if client_id:
        existing = Award.objects.select_related("review", "category").filter(client_id=client_id).first()
        if existing is not None:
            if _same_award(existing, req, points if points is not None else existing.points):
                return existing, False
            raise ClientIdConflict(_("This client id was already used for a different award."))
    try:
        with transaction.atomic():
            return _award_record_locked(author=author, village=village, req=req), True
    except IntegrityError:
        if client_id:
            existing = Award.objects.select_related("review", "category").filter(client_id=client_id).first()
            if existing is not None and _same_award(existing, req, points if points is not None else existing.points):
                return existing, False
            raise ClientIdConflict(_("This client id was already used for a different award.")) from None
        raise


def _award_record_locked(*, author, village: Village, req: AwardRequest) -> Award:
    review = review_month_open(village=village, month=req.month)
    review = ReviewMonth.objects.select_for_update().get(pk=review.pk)
    if review.status != ReviewMonth.Status.OPEN:
        raise ReviewClosed(_("%(village)s's review of %(month)s is %(status)s: it can no longer be changed here.")
                           % {"village": village.name, "month": review.month.strftime("%Y-%m"), "status": review.get_status_display()})
    category = Category.objects.filter(rule_set_id=review.rule_set_id, code=req.category_code).first()
    if category is None:
        raise LovePointsError(_("%(code)s is not a category of the rules for %(month)s.")
                              % {"code": str(req.category_code)[:30], "month": review.month.strftime("%Y-%m")})
    points = category.points if req.points is None else req.points
    if not 1 <= points <= category.points:
        raise LovePointsError(_("%(category)s awards 1 to %(max)s points (got %(points)s).")
                              % {"category": category.name, "max": category.points, "points": points})
    _account_locked_many([req.household.pk])  # serialises awards for this household (the cap)
    net = _net_points(review, req.household.pk)
    if net.get(category.pk, 0) > 0:
        raise AlreadyAwarded(_("%(household)s already has %(category)s for %(month)s.")
                             % {"household": req.household.head_name, "category": category.name, "month": review.month.strftime("%Y-%m")})
    cap = review.rule_set.monthly_cap
    month_total = sum(net.values())
    if month_total + points > cap:
        raise OverMonthlyCap(
            _("%(household)s would have %(total)s points for %(month)s, over the monthly cap of %(cap)s (already %(already)s).")
            % {"household": req.household.head_name, "total": month_total + points, "month": review.month.strftime("%Y-%m"),
               "cap": cap, "already": month_total}
        )
    return Award.objects.create(
        review=review, household=req.household, category=category, points=points, note=req.note, client_id=req.client_id, author=author,
    )


@transaction.atomic
def award_reverse(*, award: Award, reason: str, author) -> Award:
    """Correct an award with a reversing one. The village corrects its own open month; the county
    office corrects any. After approval the reversal leaves the balance too (never below zero)."""
    reason = (reason or "").strip()[:200]
    if not reason:
        raise LovePointsError(_("A correction needs a reason."))
    review = ReviewMonth.objects.select_for_update().get(pk=award.review_id)
    if not access.is_county_office(author):
        village = access.require_village_staff(author)
        if review.village_id != village.pk:
            raise OutsideVillage(_("This award belongs to another village."))
        if review.status != ReviewMonth.Status.OPEN:
            raise ReviewClosed(_("The month has been submitted: ask the county office to correct it."))
    account = _account_locked_many([award.household_id])[award.household_id]
    award = Award.objects.select_for_update().get(pk=award.pk)
    if award.reverses_id is not None:
        raise LovePointsError(_("A correction cannot itself be corrected."))
    if Award.objects.filter(reverses=award).exists():
        raise ConflictError(_("This award has already been corrected."))
    reversal = Award.objects.create(
        review=review, household_id=award.household_id, category_id=award.category_id, points=-award.points,
        note=award.note, reverses=award, reason=reason, author=author,
    )
    if review.status == ReviewMonth.Status.APPROVED:
        _ledger_append(account=account, kind=PointsEntry.Kind.AWARD, points=reversal.points, month=review.month, author=author, award=reversal)
    return reversal


@transaction.atomic
def review_submit(*, review: ReviewMonth, author) -> ReviewMonth:
    village = access.require_village_staff(author)
    review = ReviewMonth.objects.select_for_update().get(pk=review.pk)
    if review.village_id != village.pk:
        raise OutsideVillage(_("This review belongs to another village."))
    if review.status != ReviewMonth.Status.OPEN:
        raise ReviewClosed(_("This month has already been submitted."))
    if not review.awards.exists():
        raise LovePointsError(_("Nothing has been entered for this month yet."))
    review.status, review.submitted_by, review.submitted_at = ReviewMonth.Status.SUBMITTED, author, timezone.now()
    review.save(update_fields=["status", "submitted_by", "submitted_at"])
    return review


@transaction.atomic
def review_return(*, review: ReviewMonth, author) -> ReviewMonth:
    """The county office sends a submitted month back to the village for changes."""
    access.require_county_office(author)
    review = ReviewMonth.objects.select_for_update().get(pk=review.pk)
    if review.status != ReviewMonth.Status.SUBMITTED:
        raise ReviewClosed(_("Only a submitted month can be sent back."))
    review.status, review.submitted_by, review.submitted_at = ReviewMonth.Status.OPEN, None, None
    review.save(update_fields=["status", "submitted_by", "submitted_at"])
    return review


@transaction.atomic
def review_approve(*, review: ReviewMonth, author) -> int:
    """The county office approves a village's month: every award of it enters the households'
    ledger. Returns the points credited."""
    access.require_county_office(author)
    review = ReviewMonth.objects.select_for_update().get(pk=review.pk)
    if review.status != ReviewMonth.Status.SUBMITTED:
        raise ReviewClosed(_("Only a submitted month can be approved (this one is %(status)s).") % {"status": review.get_status_display()})
    awards = list(Award.objects.filter(review=review).order_by("household_id", "id"))
    accounts = _account_locked_many(a.household_id for a in awards)
    total = 0
    for award in awards:
        _ledger_append(account=accounts[award.household_id], kind=PointsEntry.Kind.AWARD, points=award.points,
                       month=review.month, author=author, award=award)
        total += award.points
    review.status, review.approved_by, review.approved_at = ReviewMonth.Status.APPROVED, author, timezone.now()
    review.save(update_fields=["status", "approved_by", "approved_at"])
    return total


# --- redemptions ---------------------------------------------------------------------------------


def _same_redemption(existing: Redemption, household: Household, lines: dict[int, int]) -> bool:
    have = dict(existing.lines.values_list("item_id", "quantity"))
    return existing.household_id == household.pk and have == lines


def redemption_record(*, author, household: Household, lines: Sequence[tuple[int, int]], client_id) -> tuple[Redemption, bool]:
    """Goods for points at the village's love-points supermarket. Returns (redemption, created).

    Refused with every problem listed: goods not of the household's village or not offered,
    quantities below one, goods short; refused with the balance when the points do not suffice.
    """
    village = access.require_village_staff(author)
    try:
        client_id = uuid.UUID(str(client_id))
    except (TypeError, ValueError):
        raise LovePointsError(_("client_id must be a UUID.")) from None
    if household.village_id != village.pk:
        raise OutsideVillage(_("Household %(number)s is not in %(village)s.") % {"number": household.number, "village": village.name})
    wanted: dict[int, int] = defaultdict(int)
    problems = []
    for item_id, quantity in lines:
        if quantity < 1:
            problems.append(_("Each quantity must be at least 1."))
            continue
        wanted[int(item_id)] += int(quantity)
    if not wanted and not problems:
        problems.append(_("Choose at least one item."))
    if problems:
        raise LovePointsError(problems[0], problems=problems)
    existing = Redemption.objects.filter(client_id=client_id).first()
    if existing is not None:
        if _same_redemption(existing, household, dict(wanted)):
            return existing, False
        raise ClientIdConflict(_("This client id was already used for a different redemption."))
    try:
        with transaction.atomic():
            return _redemption_record_locked(author=author, village=village, household=household, wanted=dict(wanted), client_id=client_id), True
    except IntegrityError:
        existing = Redemption.objects.filter(client_id=client_id).first()
        if existing is not None and _same_redemption(existing, household, dict(wanted)):
            return existing, False
        raise ClientIdConflict(_("This client id was already used for a different redemption.")) from None


def _redemption_record_locked(*, author, village: Village, household: Household, wanted: dict[int, int], client_id) -> Redemption:
    account = _account_locked_many([household.pk])[household.pk]
    items = {i.pk: i for i in GoodsItem.objects.select_for_update().filter(pk__in=wanted).order_by("pk")}
    not_offered, short = [], []
    for item_id, quantity in sorted(wanted.items()):
        item = items.get(item_id)
        if item is None or item.village_id != village.pk or not item.active:
            not_offered.append(_("Item %(id)s is not offered at this village's love-points supermarket.") % {"id": item_id})
        elif item.on_hand < quantity:
            short.append(_("%(item)s: %(wanted)s wanted, %(left)s on hand.") % {"item": item.name, "wanted": quantity, "left": item.on_hand})
    if not_offered:
        raise LovePointsError(not_offered[0], problems=not_offered + short)
    if short:
        raise InsufficientGoods(short[0], problems=short)
    total = sum(items[i].points_price * q for i, q in wanted.items())
    if total > account.balance:
        raise InsufficientPoints(
            _("%(name)s has %(balance)s points; these goods need %(needed)s.")
            % {"name": household.head_name, "balance": account.balance, "needed": total},
            balance=account.balance, needed=total,
        )
    redemption = Redemption.objects.create(client_id=client_id, household=household, village=village, points=total, author=author)
    for item_id, quantity in sorted(wanted.items()):
        item = items[item_id]
        line = RedemptionLine.objects.create(redemption=redemption, item=item, quantity=quantity, points_each=item.points_price)
        GoodsMovement.objects.create(item=item, kind=GoodsMovement.Kind.REDEMPTION, quantity=-quantity, redemption_line=line, author=author)
        GoodsItem.objects.filter(pk=item.pk).update(on_hand=item.on_hand - quantity)
    _ledger_append(account=account, kind=PointsEntry.Kind.REDEMPTION, points=-total, month=county_today().replace(day=1),
                   author=author, redemption=redemption)
    return redemption


# --- goods -----------------------------------------------------------------------------------------


@transaction.atomic
def goods_item_create(*, author, name: str, unit: str, points_price: int, village: Village | None = None) -> GoodsItem:
    village = village if access.is_county_office(author) and village else access.require_village_staff(author)
    name, unit = (name or "").strip()[:60], (unit or "").strip()[:10] or "件"
    if not name:
        raise LovePointsError(_("The item needs a name."))
    if points_price < 1:
        raise LovePointsError(_("The price in points must be at least 1."))
    if GoodsItem.objects.filter(village=village, name=name).exists():
        raise ConflictError(_("%(name)s is already in this village's goods.") % {"name": name})
    return GoodsItem.objects.create(village=village, name=name, unit=unit, points_price=points_price)


@transaction.atomic
def goods_receive(*, author, item: GoodsItem, quantity: int, note: str = "") -> GoodsMovement:
    """Goods in (donated or bought) at the village's love-points supermarket."""
    access.require_item_in_scope(author, item)
    if quantity < 1:
        raise LovePointsError(_("The quantity received must be at least 1."))
    item = GoodsItem.objects.select_for_update().get(pk=item.pk)
    movement = GoodsMovement.objects.create(item=item, kind=GoodsMovement.Kind.RECEIPT, quantity=quantity, note=(note or "")[:200], author=author)
    GoodsItem.objects.filter(pk=item.pk).update(on_hand=item.on_hand + quantity)
    return movement


@transaction.atomic
def goods_stocktake(*, author, village: Village, counts: dict[int, int], note: str = "") -> list[GoodsMovement]:
    """Post a stock-take of the village's goods: each counted quantity that differs from the books
    becomes a ``stocktake`` movement. Returns the differences posted."""
    if not access.is_county_office(author):
        own = access.require_village_staff(author)
        if own.pk != village.pk:
            raise OutsideVillage(_("You may count only your own village's goods."))
    problems = [_("A counted quantity cannot be negative.") for c in counts.values() if c < 0]
    items = {i.pk: i for i in GoodsItem.objects.select_for_update().filter(pk__in=counts, village=village).order_by("pk")}
    if set(counts) - set(items):
        problems.append(_("Some counted items are not this village's goods."))
    if problems:
        raise LovePointsError(problems[0], problems=problems)
    posted = []
    for item_id, counted in sorted(counts.items()):
        item = items[item_id]
        difference = counted - item.on_hand
        if difference:
            posted.append(GoodsMovement.objects.create(
                item=item, kind=GoodsMovement.Kind.STOCKTAKE, quantity=difference, note=(note or _("stock-take"))[:200], author=author,
            ))
            GoodsItem.objects.filter(pk=item.pk).update(on_hand=counted)
    return posted

