"""Intake at a collection point: buying produce from a household, and voiding such a purchase.

An intake creates a Lot (the unit of traceability, with a printable lot code), the Intake record
(price in force copied onto it), the lot's first stock movement (+weight at the point) and the
payment (收购款) in the household income ledger. A client-generated id makes a retried or synced
post return the first record instead of writing a second one.
"""

from __future__ import annotations

import datetime
import re
import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core import roles
from core.errors import ConflictError, DomainError, NotAllowed
from core.money import jin_to_kg, kg, line_amount
from core.parsing import InvalidInput, parse_decimal
from core.sql_insert import insert_cte, mark_saved
from core.sql_prepared import prepared_cursor
from households.models import Household, IncomeEntry, IncomeKind, Village
from households.services import (
    income_entry_append,
    income_entry_ctes,
    income_entry_prepare,
    income_entry_reverse,
)

from ..models import Facility, Grade, Intake, IntakeVoid, Lot, LotMovement, MovementKind, Produce, PurchasePrice
from .prices import NoPriceInForce

LOT_SOURCE_TYPE = "lot"
VOID_REFERENCE_TYPE = "intake_void"
INTAKE_REFERENCE_TYPE = "intake"


class IntakeError(DomainError):
    """An intake refused; ``field`` names the input a form or API shows the message next to."""

    code = "intake_invalid"
    field: str | None = None


class IntakeNotAllowed(NotAllowed):
    code = "intake_not_allowed"
    field: str | None = None


class InvalidWeight(IntakeError):
    code = "invalid_weight"
    field = "weight"


class InvalidClientId(IntakeError):
    code = "invalid_client_id"
    field = "client_id"


class UnknownHousehold(IntakeError):
    code = "unknown_household"
    field = "household"


class HouseholdNotServed(IntakeError):
    code = "household_not_served"
    field = "household"


class UnknownProduce(IntakeError):
    code = "unknown_produce"
    field = "produce"


class GradeNotOffered(IntakeError):
    code = "grade_not_offered"
    field = "grade"


class IntakeConflict(ConflictError):
    code = "client_id_conflict"
    field: str | None = "client_id"


class VoidRefused(ConflictError):
    code = "void_refused"
    field: str | None = None


class InvalidVoidReason(IntakeError):
    code = "void_reason_required"
    field = "reason"


# --- who may record --------------------------------------------------------------------------


def collection_point_of(user) -> Facility | None:
    """The collection point ``user`` works at, or None (not point staff / not assigned to one).

    The assignment and facility are cached on the user object by Django, so a caller recording
    many intakes with one user pays for this once.
    """
    if not user or not user.is_authenticated or not roles.has_role(user, roles.COLLECTION_POINT_STAFF):
        return None
    try:
        facility = user.staff_assignment.facility
    except ObjectDoesNotExist:
        return None
    if facility.kind != Facility.Kind.COLLECTION_POINT or not facility.active:
        return None
    return facility


def require_collection_point(user) -> Facility:
    """The point of ``user``, or IntakeNotAllowed with the reason."""
    if not user or not user.is_authenticated or not roles.has_role(user, roles.COLLECTION_POINT_STAFF):
        raise IntakeNotAllowed(_("Only collection-point staff may record intake."))
    point = collection_point_of(user)
    if point is None:
        raise IntakeNotAllowed(_("You are not assigned to a collection point."))
    return point


def served_village_ids(point: Facility) -> frozenset[int]:
    """Villages the point buys from (cached on the facility object for the life of the request)."""
    ids = getattr(point, "_served_village_ids", None)
    if ids is None:
        ids = frozenset(point.served_villages.values_list("pk", flat=True))
        point._served_village_ids = ids
    return ids


# --- input ------------------------------------------------------------------------------------


def parse_weight(*, weight_kg=None, weight_jin=None) -> Decimal:
    """The net weight in kg (3 places, half up) from exactly one of kg or jin; InvalidWeight else."""
    given_kg = weight_kg is not None and weight_kg != ""
    given_jin = weight_jin is not None and weight_jin != ""
    if given_kg and given_jin:
        raise InvalidWeight(_("Enter the weight in jin or in kg, not both."))
    if not given_kg and not given_jin:
        raise InvalidWeight(_("Enter the weight."))
    raw = weight_kg if given_kg else weight_jin
    if isinstance(raw, bool):
        raise InvalidWeight(_("The weight must be a number."))
    try:
        # wider than the column on purpose: a weight past it is refused below with the per-intake maximum
        value = parse_decimal(raw, max_digits=20, places=3, round_places=True)
    except InvalidInput as exc:
        raise InvalidWeight(f"{_('The weight must be a number.')} {exc.message}") from None
    weight = kg(value) if given_kg else jin_to_kg(value)
    if weight <= 0:
        raise InvalidWeight(_("The weight must be more than zero."))
    maximum = kg(settings.RELIEF_MAX_INTAKE_KG)
    if weight > maximum:
        raise InvalidWeight(
            _("The weight may not exceed %(max)s kg (%(max_jin)s jin) per intake.")
            % {"max": _plain(maximum), "max_jin": _plain(maximum * 2)}
        )
    return weight


def _plain(d: Decimal) -> str:
    s = f"{d:f}"
    return s.rstrip("0").rstrip(".") if "." in s else s


def _parse_client_id(client_id) -> uuid.UUID:
    if isinstance(client_id, uuid.UUID):
        return client_id
    try:
        return uuid.UUID(str(client_id))
    except (TypeError, ValueError, AttributeError):
        raise InvalidClientId(_("The client id must be a UUID.")) from None


def _moment(at: datetime.datetime | None) -> datetime.datetime:
    if at is None:
        return timezone.now()
    if timezone.is_naive(at):
        return timezone.make_aware(at)
    return at


# --- recording --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Content:
    point_id: int
    household_number: str
    produce_code: str
    grade_code: str
    weight_kg: Decimal


def _existing_intake(client_id: uuid.UUID) -> Intake | None:
    """The intake already recorded under ``client_id``, with what a replay compares, if any."""
    return (
        Intake.objects.select_related("lot", "household__village", "grade__produce", "collection_point", "staff")
        .filter(client_id=client_id)
        .first()
    )


def _facts_sql() -> str:
    """The happy path's one read, written out once: ``Household.number`` → (household id, its
    village id, id of an intake already under the client id, grade id and price per kg in force on
    the day, the point's intakes that day). Tables and columns come from the models."""
    sql = getattr(_facts_sql, "sql", None)
    if sql is None:
        t = {m.__name__: m._meta.db_table for m in (Household, Intake, PurchasePrice, Grade, Produce)}
        price = (
            f"FROM {t['PurchasePrice']} pp JOIN {t['Grade']} g ON g.id = pp.grade_id JOIN {t['Produce']} pd ON pd.id = g.produce_id "
            "WHERE pd.code = %s AND g.code = %s AND pp.effective_from <= %s ORDER BY pp.effective_from DESC LIMIT 1"
        )
        sql = (
            f"SELECT h.id, h.village_id, "
            f"(SELECT i.id FROM {t['Intake']} i WHERE i.client_id = %s), "
            f"(SELECT pp.grade_id {price}), (SELECT pp.price_per_kg {price}), "
            f"(SELECT COUNT(*) FROM {t['Intake']} i WHERE i.collection_point_id = %s AND i.created_at >= %s AND i.created_at < %s) "
            f"FROM {t['Household']} h WHERE h.number = %s LIMIT 1"
        )
        _facts_sql.sql = sql
    return sql


def _facts(*, client_id: uuid.UUID, content: _Content, point: Facility, day: datetime.date):
    """In one statement, everything the happy path needs to know before writing:
    (household id, its village id, id of an intake already under this client id, grade id and
    price in force on ``day``, intakes of the point that day) — or None if no household has the number."""
    prep = Intake._meta.get_field
    start, end = (prep("created_at").get_db_prep_value(t, connection) for t in _day_bounds(day))
    on = PurchasePrice._meta.get_field("effective_from").get_db_prep_value(day, connection)
    price = [content.produce_code, content.grade_code, on]
    params = [prep("client_id").get_db_prep_value(client_id, connection), *price, *price, point.pk, start, end, content.household_number]
    with prepared_cursor() as cursor:
        cursor.execute(_facts_sql(), params)
        row = cursor.fetchone()
    if row is None:
        return None
    household_id, village_id, existing_id, grade_id, price_per_kg, todays = row
    if price_per_kg is not None:
        price_per_kg = PurchasePrice._meta.get_field("price_per_kg").to_python(price_per_kg)  # SQLite answers a float or text
    return household_id, village_id, existing_id, grade_id, price_per_kg, todays


def _replay(existing: Intake, content: _Content) -> Intake:
    """The first record for a client id, if the content is the same; IntakeConflict if not."""
    same = (
        existing.collection_point_id == content.point_id
        and existing.household.number == content.household_number
        and existing.grade.produce.code == content.produce_code
        and existing.grade.code == content.grade_code
        and existing.weight_kg == content.weight_kg
    )
    if not same:
        raise IntakeConflict(_("This client id was already used for a different intake; nothing was recorded."))
    return existing


def _grade_with_price(*, produce_code: str, grade_code: str, on: datetime.date) -> tuple[int, Decimal]:
    """(grade id, price per kg in force on ``on``): one light query on the happy path; the
    follow-up queries only run to say which rule failed."""
    found = list(
        PurchasePrice.objects.filter(grade__produce__code=produce_code, grade__code=grade_code, effective_from__lte=on)
        .order_by("-effective_from")
        .values_list("grade_id", "price_per_kg")[:1]
    )
    if found:
        return found[0]
    produce = Produce.objects.filter(code=produce_code).first()
    if produce is None:
        raise UnknownProduce(_("Unknown produce “%(code)s”.") % {"code": produce_code})
    grade = Grade.objects.filter(produce=produce, code=grade_code).first()
    if grade is None:
        raise GradeNotOffered(_("%(produce)s has no grade “%(grade)s”.") % {"produce": produce.name, "grade": grade_code})
    raise NoPriceInForce(
        _("No purchase price is in force for %(grade)s on %(date)s.") % {"grade": f"{produce.name}{grade.name}", "date": on.isoformat()}
    )


def lot_code_prefix(point: Facility, day: datetime.date) -> str:
    """``L`` + the point's code (letters and digits) + ``-`` + yymmdd + ``-``: e.g. ``LCP00001-261129-``."""
    compact = re.sub(r"[^0-9A-Za-z]", "", point.code).upper()
    if len(compact) > 18:  # keep the code within Lot.code; cutting it would merge points' sequences
        compact = f"P{point.pk}"
    return f"L{compact}-{day:%y%m%d}-"


def _day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    return start, start + datetime.timedelta(days=1)


def _insert_intake(lot: Lot, intake: Intake, movement: LotMovement, entry: IncomeEntry) -> None:
    """Write an intake's four rows (and the summary's share of the income entry) all or nothing."""
    if connection.vendor != "postgresql":
        with transaction.atomic():
            lot.save(force_insert=True)
            intake.lot, movement.lot = lot, lot
            intake.save(force_insert=True)
            movement.save(force_insert=True)
            income_entry_append(entry)
        return
    lot_id = "(SELECT id FROM l)"
    parts, params = [], []
    for name, obj, refs in (("l", lot, {}), ("i", intake, {"lot_id": lot_id}), ("m", movement, {"lot_id": lot_id})):
        sql, p = insert_cte(name, obj, refs=refs)
        parts.append(sql)
        params += p
    ledger, p = income_entry_ctes(entry, "e")
    params += p
    sql = f"WITH {', '.join(parts + ledger)} SELECT (SELECT id FROM l), (SELECT id FROM i), (SELECT id FROM m), (SELECT id FROM e)"
    # In autocommit the statement is its own transaction; inside a caller's, a savepoint keeps a
    # refused code from aborting it.
    with transaction.atomic() if connection.in_atomic_block else nullcontext(), prepared_cursor() as cursor:
        cursor.execute(sql, params)
        ids = cursor.fetchone()
    for obj, pk in zip((lot, intake, movement, entry), ids, strict=True):
        mark_saved(obj, pk)
    intake.lot, movement.lot = lot, lot


def intake_record(
    *,
    staff,
    client_id: uuid.UUID,
    household_number: str,
    produce_code: str,
    grade_code: str,
    weight_kg=None,
    weight_jin=None,
    at: datetime.datetime | None = None,
) -> tuple[Intake, bool]:
    """Record a purchase at the staff's collection point; return (intake, created).

    The same ``client_id`` with the same content returns the first intake and writes nothing;
    with different content it raises IntakeConflict. Every refusal is a domain error raised
    before anything is written. ``at`` back-dates the intake (offline sync, demo, benchmark):
    its time is stored and the price in force on its date is used.
    """
    point = require_collection_point(staff)
    client_id = _parse_client_id(client_id)
    weight = parse_weight(weight_kg=weight_kg, weight_jin=weight_jin)
    content = _Content(
        point_id=point.pk,
        household_number=str(household_number or "").strip(),
        produce_code=str(produce_code or "").strip(),
        grade_code=str(grade_code or "").strip(),
        weight_kg=weight,
    )
    when = _moment(at)
    day = timezone.localtime(when).date()
    facts = _facts(client_id=client_id, content=content, point=point, day=day) if content.household_number else None
    if facts is None or facts[2] is not None:
        existing = _existing_intake(client_id)
        if existing is not None:
            return _replay(existing, content), False
    if not content.household_number:
        raise UnknownHousehold(_("Choose the household."))
    if facts is None:
        raise UnknownHousehold(_("No household has the registry number “%(number)s”.") % {"number": content.household_number})
    household_id, village_id, _existing_id, grade_id, unit_price, todays = facts
    if village_id not in served_village_ids(point):
        village = Village.objects.get(pk=village_id)
        raise HouseholdNotServed(
            _("Household %(number)s (%(village)s) is not in a village this collection point serves.")
            % {"number": content.household_number, "village": village.name}
        )
    if grade_id is None:
        grade_id, unit_price = _grade_with_price(produce_code=content.produce_code, grade_code=content.grade_code, on=day)
    amount = line_amount(weight, unit_price)

    # Four rows and the summary's upsert: one statement on PostgreSQL, one transaction elsewhere.
    # The lot code follows the day's intakes at the point; a code taken meanwhile by a concurrent
    # intake fails the statement (nothing is written) and the next free code is tried.
    prefix = lot_code_prefix(point, day)
    seq = (todays or 0) + 1
    detail = {
        "point": point.code,
        "grade": content.grade_code,
        "weight_kg": str(weight),
        "unit_price": str(unit_price),
        "client_id": str(client_id),
    }
    for _attempt in range(200):
        code = f"{prefix}{seq:04d}"
        lot = Lot(code=code, grade_id=grade_id, household_id=household_id, origin=point, weight_kg=weight, created_at=when)
        intake = Intake(
            client_id=client_id, lot=lot, household_id=household_id, collection_point=point, grade_id=grade_id,
            weight_kg=weight, unit_price=unit_price, amount=amount, staff=staff, created_at=when,
        )
        movement = LotMovement(
            lot=lot, facility=point, kind=MovementKind.INTAKE, quantity_kg=weight, reference_type=INTAKE_REFERENCE_TYPE,
            reference_code=code, author=staff, created_at=when,
        )
        entry = income_entry_prepare(
            household=household_id, kind=IncomeKind.INTAKE, amount=amount, date=day, source_type=LOT_SOURCE_TYPE,
            source_code=code, produce=content.produce_code, source_detail=detail, author=staff,
        )
        try:
            _insert_intake(lot, intake, movement, entry)
            return intake, True
        except IntegrityError:
            # A concurrent post of the same client id won the race: answer as a replay.
            existing = _existing_intake(client_id)
            if existing is not None:
                return _replay(existing, content), False
            if not Lot.objects.filter(code=code).exists():
                raise
            # Taken: continue after the highest code of this prefix rather than one step at a time.
            highest = Lot.objects.filter(code__startswith=prefix).order_by("-code").values_list("code", flat=True).first()
            tail = highest[len(prefix):] if highest else ""
            seq = max(seq, int(tail) if tail.isdigit() else 0) + 1
    raise ConflictError(_("Could not allocate a lot code; please try again."))


# --- voiding ----------------------------------------------------------------------------------


def intake_can_be_voided_by(user, intake: Intake) -> bool:
    if roles.is_county_office(user):
        return True
    point = collection_point_of(user)
    return point is not None and point.pk == intake.collection_point_id


def intake_lot_still_at_point(intake: Intake) -> bool:
    """True while nothing of the lot has moved: its only movement is the intake at the point."""
    moved = LotMovement.objects.filter(lot_id=intake.lot_id).exclude(kind=MovementKind.INTAKE).exists()
    return not moved


def intake_void(*, intake: Intake, reason: str, author) -> IntakeVoid:
    """Void an intake while its whole lot is still at the point: an IntakeVoid, a −weight
    movement and the reversal of the household's payment entry, with the reason and author."""
    if not intake_can_be_voided_by(author, intake):
        raise IntakeNotAllowed(_("Only staff of the intake's collection point or the county office may void it."))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidVoidReason(_("Give the reason for the void."))
    if len(reason) > 200:
        raise InvalidVoidReason(_("Keep the reason under 200 characters."))
    with transaction.atomic():
        # Lock the lot: a shipment or packing run of the same lot waits for us (or we for it).
        lot = Lot.objects.select_for_update().get(pk=intake.lot_id)
        if IntakeVoid.objects.filter(intake_id=intake.pk).exists():
            raise VoidRefused(_("Intake %(lot)s has already been voided.") % {"lot": lot.code})
        movements = list(LotMovement.objects.filter(lot=lot).values_list("facility_id", "kind"))
        on_hand = (
            LotMovement.objects.filter(lot=lot, facility_id=intake.collection_point_id).aggregate(s=Sum("quantity_kg"))["s"]
            or Decimal("0")
        )
        moved = any(kind != MovementKind.INTAKE or facility_id != intake.collection_point_id for facility_id, kind in movements)
        if moved or on_hand != lot.weight_kg:
            raise VoidRefused(
                _("Lot %(lot)s has already left the collection point (shipped or packed); the intake can no longer be voided.")
                % {"lot": lot.code}
            )
        void = IntakeVoid.objects.create(intake=intake, reason=reason, author=author)
        LotMovement.objects.create(
            lot=lot,
            facility_id=intake.collection_point_id,
            kind=MovementKind.VOID,
            quantity_kg=-lot.weight_kg,
            reference_type=VOID_REFERENCE_TYPE,
            reference_code=lot.code,
            reason=reason,
            author=author,
        )
        entries = IncomeEntry.objects.filter(
            source_type=LOT_SOURCE_TYPE, source_code=lot.code, kind=IncomeKind.INTAKE, reverses__isnull=True
        ).exclude(reversed_by__isnull=False)
        for entry in entries:
            income_entry_reverse(entry=entry, reason=reason, author=author, date=timezone.localdate())
    return void
