"""Stock-takes (盘点) at a sorting station or the supermarket: open a count sheet, count, submit,
and — the county office's decision — approve (post the differences) or send back for a recount.

The rule for counting while the shop stays open (a stock-take blocks nothing else):
each count remembers the book quantity of its batch at the moment it is entered
(``book_at_count``). What moves afterwards (a sale, a receipt, a shipment) moves the book and
the shelf alike, so the count's difference ``counted − book_at_count`` stays the true difference
however long approval takes; posting adds exactly that to the book as a ``stocktake`` movement.
Recounting a line replaces its count and its book figure (the sheet is a working paper, not a
ledger; only the posted movements are).

Lock order: the StockTake row, then its BatchStock rows in primary-key order (checkout and the
other stock writers lock BatchStock rows only, in the same order).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import roles
from core.errors import ConflictError, DomainError, NotAllowed
from core.parsing import InvalidInput, parse_int

from ..models import BatchStock, Facility, StockTake, StockTakeLine
from .access import ensure_acts_at
from .stock import batch_stock_count_adjust


class StockTakeRefused(DomainError):
    code = "stocktake_refused"


class StockTakeStateConflict(ConflictError):
    code = "stocktake_state"


S = StockTake.Status
TRANSITIONS: dict[str, set[str]] = {
    S.COUNTING: {S.SUBMITTED, S.CANCELLED},
    S.SUBMITTED: {S.POSTED, S.COUNTING, S.CANCELLED},
    S.POSTED: set(),
    S.CANCELLED: set(),
}


def _set_status(stocktake: StockTake, to: str) -> None:
    """The one place a stock-take changes status; a move not in TRANSITIONS is refused."""
    if to not in TRANSITIONS[stocktake.status]:
        raise StockTakeStateConflict(
            _("Stock-take %(code)s is %(status)s; it cannot become %(to)s.")
            % {"code": stocktake.code, "status": stocktake.get_status_display(), "to": StockTake.Status(to).label}
        )
    stocktake.status = to


def _lock(stocktake: StockTake) -> StockTake:
    return StockTake.objects.select_for_update(of=("self",)).select_related("facility").get(pk=stocktake.pk)


def _code(facility: Facility, today) -> str:
    seq = StockTake.objects.filter(facility=facility, created_at__date=today).count() + 1
    return f"ST-{facility.code[-20:]}-{today:%Y%m%d}-{seq:02d}"


@transaction.atomic
def stocktake_open(*, facility: Facility, author, note: str = "") -> StockTake:
    """A count sheet of every batch on hand at ``facility`` (one open stock-take per facility)."""
    ensure_acts_at(author, facility)
    facility = Facility.objects.select_for_update().get(pk=facility.pk)  # one opening at a time: codes, one open sheet
    if facility.kind == Facility.Kind.COLLECTION_POINT:
        raise StockTakeRefused(_("Stock-takes count packed retail units, at a sorting station or the supermarket."))
    open_one = StockTake.objects.filter(facility=facility, status__in=(S.COUNTING, S.SUBMITTED)).first()
    if open_one is not None:
        raise StockTakeStateConflict(
            _("Stock-take %(code)s is still open here: finish or cancel it first.") % {"code": open_one.code}
        )
    rows = list(BatchStock.objects.filter(facility=facility, quantity__gt=0).order_by("pk").values_list("batch_id", "quantity"))
    if not rows:
        raise StockTakeRefused(_("Nothing is on hand at %(facility)s to count.") % {"facility": facility.name})
    now = timezone.now()
    stocktake = StockTake.objects.create(
        code=_code(facility, timezone.localdate(now)), facility=facility, note=(note or "").strip()[:200], created_by=author,
        created_at=now,
    )
    StockTakeLine.objects.bulk_create(
        [StockTakeLine(stocktake=stocktake, batch_id=batch_id, book_at_open=quantity) for batch_id, quantity in rows]
    )
    return stocktake


@transaction.atomic
def stocktake_count(*, stocktake: StockTake, counts: dict, author) -> int:
    """Enter counted units: ``counts`` maps line ids to what was typed (blank: not counted yet).
    Every bad entry is reported together (``line:<id>`` keys); nothing is written then. Returns
    the number of lines counted."""
    stocktake = _lock(stocktake)
    ensure_acts_at(author, stocktake.facility)
    if stocktake.status != S.COUNTING:
        raise StockTakeStateConflict(
            _("Stock-take %(code)s is %(status)s: counts can no longer change.")
            % {"code": stocktake.code, "status": stocktake.get_status_display()}
        )
    lines = {line.pk: line for line in stocktake.lines.select_related("batch")}
    parsed: dict[int, int] = {}
    problems, keys = [], {}
    for raw_id, raw in counts.items():
        line = lines.get(int(raw_id)) if str(raw_id).isdigit() else None
        if line is None:
            continue
        text = str(raw if raw is not None else "").strip()
        if not text:
            continue
        try:
            parsed[line.pk] = parse_int(text, min_value=0, max_value=10_000_000, label=_("Batch %(code)s") % {"code": line.batch.code})
        except InvalidInput as exc:
            problems.append(exc.message)
            keys[f"line:{line.pk}"] = exc.message
    if problems:
        raise StockTakeRefused(_("Some counts could not be read."), problems=problems, problem_keys=keys)
    if not parsed:
        return 0
    batch_ids = sorted(lines[pk].batch_id for pk in parsed)
    books = dict(
        BatchStock.objects.select_for_update().filter(facility=stocktake.facility, batch_id__in=batch_ids).order_by("pk")
        .values_list("batch_id", "quantity")
    )
    now = timezone.now()
    for pk, counted in parsed.items():
        line = lines[pk]
        line.counted, line.book_at_count = counted, books.get(line.batch_id, 0)
        line.counted_by, line.counted_at = author, now
    StockTakeLine.objects.bulk_update([lines[pk] for pk in parsed], ["counted", "book_at_count", "counted_by", "counted_at"])
    return len(parsed)


@transaction.atomic
def stocktake_submit(*, stocktake: StockTake, author) -> StockTake:
    """Hand the counted sheet to the county office; every batch must have been counted."""
    stocktake = _lock(stocktake)
    ensure_acts_at(author, stocktake.facility)
    missing = list(stocktake.lines.filter(counted__isnull=True).select_related("batch").values_list("batch__code", flat=True))
    if missing and stocktake.status == S.COUNTING:
        raise StockTakeRefused(
            _("Count every batch before submitting: %(n)d not counted yet.") % {"n": len(missing)},
            problems=[_("Batch %(code)s is not counted.") % {"code": code} for code in missing],
        )
    _set_status(stocktake, S.SUBMITTED)
    stocktake.submitted_by, stocktake.submitted_at = author, timezone.now()
    stocktake.save(update_fields=["status", "submitted_by", "submitted_at"])
    return stocktake


def _ensure_county_office(author) -> None:
    if not roles.is_county_office(author):
        raise NotAllowed(_("Only the county office approves stock-takes."))


@transaction.atomic
def stocktake_approve(*, stocktake: StockTake, author) -> StockTake:
    """The county office approves: each line's difference (counted − book when counted) becomes
    a ``stocktake`` movement. All lines post or none (every refusal listed)."""
    _ensure_county_office(author)
    stocktake = _lock(stocktake)
    if stocktake.status != S.SUBMITTED:
        raise StockTakeStateConflict(
            _("Stock-take %(code)s is %(status)s: only a submitted stock-take is approved.")
            % {"code": stocktake.code, "status": stocktake.get_status_display()}
        )
    lines = list(stocktake.lines.select_related("batch").order_by("batch_id"))
    stock = {
        s.batch_id: s
        for s in BatchStock.objects.select_for_update(of=("self",)).filter(facility=stocktake.facility, batch_id__in=[ln.batch_id for ln in lines])
        .select_related("batch").order_by("pk")
    }
    problems = []
    for line in lines:
        row = stock.get(line.batch_id)
        if line.difference and row is not None and row.quantity + line.difference < row.reserved:
            problems.append(
                _("Batch %(batch)s: posting %(units)+d would leave %(left)s units, fewer than the %(reserved)s that orders hold.")
                % {"batch": line.batch.code, "units": line.difference, "left": row.quantity + line.difference, "reserved": row.reserved}
            )
    if problems:
        raise StockTakeStateConflict(_("The differences cannot be posted as they are: send the sheet back for a recount."),
                                     problems=problems)
    for line in lines:
        diff = line.difference or 0
        if diff:
            row = stock.get(line.batch_id)
            if row is None:  # the sheet was built from stock rows, which are never deleted; guard anyway
                row = BatchStock.objects.select_for_update().get_or_create(batch_id=line.batch_id, facility=stocktake.facility)[0]
            batch_stock_count_adjust(
                stock=row, units=diff, reference_code=stocktake.code, author=author,
                reason=f"counted {line.counted}, book {line.book_at_count}",
            )
        line.posted_delta = diff
    StockTakeLine.objects.bulk_update(lines, ["posted_delta"])
    _set_status(stocktake, S.POSTED)
    stocktake.decided_by, stocktake.decided_at = author, timezone.now()
    stocktake.save(update_fields=["status", "decided_by", "decided_at"])
    return stocktake


@transaction.atomic
def stocktake_send_back(*, stocktake: StockTake, author) -> StockTake:
    """The county office returns a submitted sheet for a recount (nothing is posted)."""
    _ensure_county_office(author)
    stocktake = _lock(stocktake)
    _set_status(stocktake, S.COUNTING)
    stocktake.save(update_fields=["status"])
    return stocktake


@transaction.atomic
def stocktake_cancel(*, stocktake: StockTake, author) -> StockTake:
    """Drop an unposted stock-take (nothing was ever posted from it)."""
    stocktake = _lock(stocktake)
    ensure_acts_at(author, stocktake.facility)
    _set_status(stocktake, S.CANCELLED)
    stocktake.decided_by, stocktake.decided_at = author, timezone.now()
    stocktake.save(update_fields=["status", "decided_by", "decided_at"])
    return stocktake
