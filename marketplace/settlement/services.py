"""Settlement: split every sold unit's net revenue over its batch's household shares, in SQL.

A run works in chunks of order lines (then of refund lines). Each chunk is one transaction that
locks the run row, inserts the chunk's SettlementLines with INSERT … SELECT (the split computed
with window functions: floor of the exact share, then the fen left over to the largest
remainders, ties to the lower household id), appends the matching income entries from those
lines, and moves the run's cursor. A worker killed mid-chunk loses only that uncommitted chunk;
starting settlement again resumes the unfinished run where its cursor stands, and the unique
constraints on SettlementLine make a second pass add nothing.

The split is the same rule as ``core.money.split_largest_remainder`` (tests prove they agree),
done in integer fen and grams so that SQLite and PostgreSQL compute the same parts. The dividends
(二次返利) of a run are rate × the revenue it attributed, split over the households by the same
largest-remainder rule (``dividends.py``), so they add up to it exactly.
"""

from __future__ import annotations

import datetime
import logging
import secrets

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError, NotAllowed
from core.money import from_fen, to_fen
from core.roles import is_county_office
from households.models import IncomeEntry
from households.services import income_entries_append_select
from logistics.models import BatchShare, PackedBatch, Produce, Sku
from marketplace.models import Order, OrderLine, OrderLineBatch, Refund, RefundLine
from marketplace.services.orders import SOLD_STATUSES as ORDER_SOLD_STATUSES

from .dividends import dividends_and_payouts_write
from .models import DividendLine, Payout, SettlementLine, SettlementRun
from .money_flow import money_flow_refresh_soon
from .sql import _fen, _int_div, _json_object, _local_date, _t, _ts, _yuan_from_fen

log = logging.getLogger(__name__)

# Orders whose units count as sold: the state machine's one answer (paid, and neither cancelled
# nor wholly refunded before settlement), here in both ORM and SQL form.
SOLD_STATUSES = tuple(sorted(ORDER_SOLD_STATUSES))
SOLD_SQL = ", ".join(f"'{s}'" for s in SOLD_STATUSES)
DEFAULT_CHUNK_LINES = 25_000


class SettlementError(DomainError):
    pass


class PayoutAlreadyPaid(SettlementError):
    status = 409
    code = "conflict"


def chunk_lines() -> int:
    return int(getattr(settings, "RELIEF_SETTLEMENT_CHUNK_LINES", DEFAULT_CHUNK_LINES))


# --- The split -------------------------------------------------------------------------------


def _split_select(items_sql: str) -> str:
    """Wrap a SELECT of items to split — columns (line_id, batch_id, refund_line_id, total_fen,
    sign, day, year, produce, channel, order_number, batch_code) — into a SELECT of one row per household of the item's batch with
    its part in fen: floor of total × grams / batch grams, plus one fen for the ``leftover``
    largest remainders (ties to the lower household id)."""
    shares = _t(BatchShare)
    item = "{p}line_id, {p}batch_id, {p}refund_line_id"
    return f"""
    SELECT rk.line_id, rk.batch_id, rk.refund_line_id, rk.household_id, rk.day, rk.year, rk.produce, rk.channel,
           rk.order_number, rk.batch_code,
           rk.sign * (rk.floor_fen + CASE WHEN rk.rn <= rk.total_fen - rk.floor_sum THEN 1 ELSE 0 END) AS fen
    FROM (
        SELECT fl.*, CAST(SUM(fl.floor_fen) OVER (PARTITION BY {item.format(p="fl.")}) AS BIGINT) AS floor_sum,
               ROW_NUMBER() OVER (PARTITION BY {item.format(p="fl.")} ORDER BY fl.rem DESC, fl.household_id) AS rn
        FROM (
            SELECT ws.*, {_int_div("ws.total_fen * ws.grams", "ws.grams_sum")} AS floor_fen,
                   (ws.total_fen * ws.grams - {_int_div("ws.total_fen * ws.grams", "ws.grams_sum")} * ws.grams_sum) AS rem
            FROM (
                SELECT it.*, bs.household_id, CAST(ROUND(bs.weight_kg * 1000) AS BIGINT) AS grams,
                       CAST(SUM(CAST(ROUND(bs.weight_kg * 1000) AS BIGINT)) OVER (PARTITION BY {item.format(p="it.")}) AS BIGINT)
                           AS grams_sum
                FROM ({items_sql}) it JOIN {shares} bs ON bs.batch_id = it.batch_id
            ) ws
        ) fl
    ) rk
    """


def _insert_lines_sql(run_id: int, chunk: int, kind: str, items_sql: str) -> str:
    cols = (
        "run_id, chunk, kind, order_line_id, batch_id, household_id, refund_line_id, amount_fen, amount, date, year, produce,"
        " channel"
    )
    return f"""
    INSERT INTO {_t(SettlementLine)} ({cols})
    SELECT {int(run_id)}, {int(chunk)}, '{kind}', sp.line_id, sp.batch_id, sp.household_id, sp.refund_line_id,
           sp.fen, {_yuan_from_fen("sp.fen")}, sp.day, sp.year, sp.produce, sp.channel
    FROM ({_split_select(items_sql)}) sp
    """


def _sale_items_sql(run: SettlementRun, lo: int, hi: int) -> tuple[str, list]:
    day, day_params = _local_date("o.paid_at")
    sql = f"""
    SELECT olb.line_id AS line_id, olb.batch_id AS batch_id, CAST(NULL AS BIGINT) AS refund_line_id,
           olb.units * {_fen("ol.unit_price")} AS total_fen, 1 AS sign, {day} AS day, o.year AS year, pr.code AS produce,
           o.channel AS channel, o.number AS order_number, pb.code AS batch_code
    FROM {_t(OrderLineBatch)} olb
    JOIN {_t(OrderLine)} ol ON ol.id = olb.line_id
    JOIN {_t(Order)} o ON o.id = ol.order_id
    JOIN {_t(PackedBatch)} pb ON pb.id = olb.batch_id
    JOIN {_t(Sku)} sk ON sk.id = pb.sku_id
    JOIN {_t(Produce)} pr ON pr.id = sk.produce_id
    WHERE olb.line_id > %s AND olb.line_id <= %s
      AND o.status IN ({SOLD_SQL}) AND o.paid_at IS NOT NULL AND o.paid_at < %s
      AND NOT EXISTS (SELECT 1 FROM {_t(SettlementLine)} sl
                      WHERE sl.order_line_id = olb.line_id AND sl.batch_id = olb.batch_id AND sl.kind = 'sale'
                        AND sl.order_line_id > %s AND sl.order_line_id <= %s)
    """
    # The probe's own range (implied by the join) lets the planner read only the chunk's part of
    # the settled lines, not all of them: each chunk costs the same however many came before.
    return sql, [*day_params, lo, hi, _ts(run.cutoff), lo, hi]


def _refund_items_sql(run: SettlementRun, lo: int, hi: int) -> tuple[str, list]:
    """Refund lines whose sale was settled (by this run or before) and that are not reversed yet.
    A refund before its sale was ever settled needs nothing: that sale is either reversed here in
    the same run, or (a wholly refunded order) was never attributed."""
    day, day_params = _local_date("rf.created_at")
    sql = f"""
    SELECT rl.line_id AS line_id, rl.batch_id AS batch_id, rl.id AS refund_line_id,
           {_fen("rl.amount")} AS total_fen, -1 AS sign, {day} AS day, o.year AS year, pr.code AS produce,
           o.channel AS channel, o.number AS order_number, pb.code AS batch_code
    FROM {_t(RefundLine)} rl
    JOIN {_t(Refund)} rf ON rf.id = rl.refund_id
    JOIN {_t(OrderLine)} ol ON ol.id = rl.line_id
    JOIN {_t(Order)} o ON o.id = ol.order_id
    JOIN {_t(PackedBatch)} pb ON pb.id = rl.batch_id
    JOIN {_t(Sku)} sk ON sk.id = pb.sku_id
    JOIN {_t(Produce)} pr ON pr.id = sk.produce_id
    WHERE rl.id > %s AND rl.id <= %s AND rf.created_at < %s
      AND EXISTS (SELECT 1 FROM {_t(SettlementLine)} sl
                  WHERE sl.order_line_id = rl.line_id AND sl.batch_id = rl.batch_id AND sl.kind = 'sale')
      AND NOT EXISTS (SELECT 1 FROM {_t(SettlementLine)} sl2 WHERE sl2.refund_line_id = rl.id AND sl2.kind = 'refund'
                        AND sl2.refund_line_id > %s AND sl2.refund_line_id <= %s)
    """
    return sql, [*day_params, lo, hi, _ts(run.cutoff), lo, hi]


def _next_sales_bound(run: SettlementRun, size: int) -> int | None:
    """The last order line id of the next chunk of unsettled sold lines after the cursor."""
    sql = f"""
    SELECT MAX(line_id) FROM (
        SELECT olb.line_id FROM {_t(OrderLineBatch)} olb
        JOIN {_t(OrderLine)} ol ON ol.id = olb.line_id
        JOIN {_t(Order)} o ON o.id = ol.order_id
        WHERE olb.line_id > %s AND o.status IN ({SOLD_SQL})
          AND o.paid_at IS NOT NULL AND o.paid_at < %s
          AND NOT EXISTS (SELECT 1 FROM {_t(SettlementLine)} sl
                          WHERE sl.order_line_id = olb.line_id AND sl.batch_id = olb.batch_id AND sl.kind = 'sale'
                            AND sl.order_line_id > %s)
        ORDER BY olb.line_id LIMIT {int(size)}
    ) nxt
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [run.cursor, _ts(run.cutoff), run.cursor])
        row = cursor.fetchone()
    return row[0] if row and row[0] is not None else None


def _next_refunds_bound(run: SettlementRun, size: int) -> int | None:
    sql = f"""
    SELECT MAX(id) FROM (
        SELECT rl.id FROM {_t(RefundLine)} rl JOIN {_t(Refund)} rf ON rf.id = rl.refund_id
        WHERE rl.id > %s AND rf.created_at < %s
          AND NOT EXISTS (SELECT 1 FROM {_t(SettlementLine)} sl2 WHERE sl2.refund_line_id = rl.id AND sl2.kind = 'refund')
        ORDER BY rl.id LIMIT {int(size)}
    ) nxt
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [run.cursor, _ts(run.cutoff)])
        row = cursor.fetchone()
    return row[0] if row and row[0] is not None else None


def _append_ledger_for_chunk(run: SettlementRun, chunk: int) -> int:
    """The chunk's settlement lines, one income entry each (kind sales; refunds negative)."""
    now = _ts(timezone.now())
    detail = _json_object(
        ("order", "o.number"), ("line", "sl.order_line_id"), ("batch", "pb.code"), ("run", "r.code"),
        ("refund_line", "sl.refund_line_id"),
    )
    select = f"""
    SELECT sl.household_id AS household_id, 'sales' AS kind, sl.amount AS amount, sl.date AS date, sl.produce AS produce,
           sl.channel AS channel,
           CASE WHEN sl.kind = 'sale' THEN 'sale' ELSE 'refund' END AS source_type, o.number AS source_code,
           {detail} AS source_detail,
           CASE WHEN sl.kind = 'sale' THEN '' ELSE %s END AS reason,
           CAST(NULL AS INTEGER) AS author_id, %s AS created_at
    FROM {_t(SettlementLine)} sl
    JOIN {_t(SettlementRun)} r ON r.id = sl.run_id
    JOIN {_t(OrderLine)} ol ON ol.id = sl.order_line_id
    JOIN {_t(Order)} o ON o.id = ol.order_id
    JOIN {_t(PackedBatch)} pb ON pb.id = sl.batch_id
    WHERE sl.run_id = %s AND sl.chunk = %s
    """
    return income_entries_append_select(select_sql=select, params=["refund", now, run.pk, chunk])


def _settle_chunk_in_one_statement(run: SettlementRun, chunk: int, kind: str, items_sql: str, params: list) -> int:
    """PostgreSQL: the chunk's split computed once (a materialized CTE), its settlement lines and
    its income entries both inserted from it, and the monthly summary added — one statement, so
    the lines are not read back and joined again for the ledger. The entries are those
    ``_append_ledger_for_chunk`` writes (same columns, same detail)."""
    now = _ts(timezone.now())
    cols = (
        "run_id, chunk, kind, order_line_id, batch_id, household_id, refund_line_id, amount_fen, amount, date, year, produce,"
        " channel"
    )
    ctes = f"""
    sp AS MATERIALIZED ({_split_select(items_sql)}),
    sl AS (
        INSERT INTO {_t(SettlementLine)} ({cols})
        SELECT {int(run.pk)}, {int(chunk)}, '{kind}', sp.line_id, sp.batch_id, sp.household_id, sp.refund_line_id,
               sp.fen, {_yuan_from_fen("sp.fen")}, sp.day, sp.year, sp.produce, sp.channel
        FROM sp
    )"""
    detail = _json_object(
        ("order", "sp.order_number"), ("line", "sp.line_id"), ("batch", "sp.batch_code"), ("run", "CAST(%s AS text)"),
        ("refund_line", "sp.refund_line_id"),
    )
    select = f"""
    SELECT sp.household_id AS household_id, 'sales' AS kind, {_yuan_from_fen("sp.fen")} AS amount, sp.day AS date,
           sp.produce AS produce, sp.channel AS channel,
           CASE WHEN sp.refund_line_id IS NULL THEN 'sale' ELSE 'refund' END AS source_type, sp.order_number AS source_code,
           {detail} AS source_detail,
           CASE WHEN sp.refund_line_id IS NULL THEN '' ELSE %s END AS reason,
           CAST(NULL AS INTEGER) AS author_id, %s AS created_at
    FROM sp
    """
    return income_entries_append_select(select_sql=select, params=[run.code, "refund", now], ctes=ctes, cte_params=params)


def _chunk_totals(run: SettlementRun, chunk: int) -> tuple[int, int, int]:
    """(items, lines, fen) of one committed chunk: one aggregate query."""
    sql = f"""
    SELECT COUNT(*), COALESCE(SUM(n), 0), COALESCE(SUM(f), 0) FROM (
        SELECT order_line_id, batch_id, refund_line_id, COUNT(*) AS n, SUM(amount_fen) AS f
        FROM {_t(SettlementLine)} WHERE run_id = %s AND chunk = %s
        GROUP BY order_line_id, batch_id, refund_line_id
    ) per_item
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [run.pk, chunk])
        items, lines, fen = cursor.fetchone()
    return int(items), int(lines), int(fen)


# --- Runs ------------------------------------------------------------------------------------


def _new_code(now: datetime.datetime) -> str:
    return f"ST{timezone.localtime(now):%Y%m%d%H%M%S}-{secrets.token_hex(2).upper()}"


def _pending_items(cutoff: datetime.datetime) -> int:
    """Sold (line, batch) items and refund lines of settled sales that no run has settled yet."""
    sale_settled = SettlementLine.objects.filter(
        kind=SettlementLine.Kind.SALE, order_line_id=OuterRef("line_id"), batch_id=OuterRef("batch_id")
    )
    sold = OrderLineBatch.objects.filter(
        line__order__status__in=SOLD_STATUSES, line__order__paid_at__lt=cutoff
    ).exclude(Exists(sale_settled))
    refunds = RefundLine.objects.filter(refund__created_at__lt=cutoff, refund__order__paid_at__isnull=False).filter(
        Exists(sale_settled) | Q(line__order__status__in=SOLD_STATUSES, line__order__paid_at__lt=cutoff)
    ).exclude(Exists(SettlementLine.objects.filter(kind=SettlementLine.Kind.REFUND, refund_line_id=OuterRef("pk"))))
    return sold.count() + refunds.count()


@transaction.atomic
def settlement_run_start(*, until: datetime.datetime | None = None, author=None) -> SettlementRun:
    """The unfinished run if there is one (it is resumed), else a new run up to ``until`` (now)."""
    unfinished = (
        SettlementRun.objects.select_for_update()
        .filter(status__in=[SettlementRun.Status.RUNNING, SettlementRun.Status.FAILED])
        .order_by("id")
        .first()
    )
    if unfinished is not None:
        if unfinished.status != SettlementRun.Status.RUNNING:
            unfinished.status = SettlementRun.Status.RUNNING
            unfinished.save(update_fields=["status"])
        return unfinished
    now = timezone.now()
    cutoff = min(until, now) if until else now
    pending = _pending_items(cutoff)
    if not pending:
        # Nothing new: no empty run is recorded (running settlement twice changes nothing).
        latest = SettlementRun.objects.filter(status=SettlementRun.Status.COMPLETED).order_by("-id").first()
        if latest is not None:
            return latest
    return SettlementRun.objects.create(code=_new_code(now), cutoff=cutoff, author=author, items_total=pending)


def settlement_run_step(*, run_id: int, chunk_size: int | None = None) -> bool:
    """Settle one chunk of ``run_id`` in one transaction; False once the run is complete."""
    size = chunk_size or chunk_lines()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A chunk is all-or-nothing and a lost one is simply settled again on resume, so it
            # need not wait for its WAL to reach the disk (a crash can lose it, never split it).
            # Its split (window functions over a chunk's items) and the summary's per-key sums
            # fit in memory at 64 MB instead of spilling to disk at the default 4 MB.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
                cursor.execute("SET LOCAL work_mem = '64MB'")
        run = SettlementRun.objects.select_for_update().get(pk=run_id)
        if run.status == SettlementRun.Status.COMPLETED:
            return False
        if run.phase in (SettlementRun.Phase.SALES, SettlementRun.Phase.REFUNDS):
            sales = run.phase == SettlementRun.Phase.SALES
            hi = _next_sales_bound(run, size) if sales else _next_refunds_bound(run, size)
            if hi is None:
                run.phase = SettlementRun.Phase.REFUNDS if sales else SettlementRun.Phase.DIVIDENDS
                run.cursor = 0
                run.save(update_fields=["phase", "cursor"])
                return True
            chunk = run.chunks_done + 1
            items_sql, params = (_sale_items_sql if sales else _refund_items_sql)(run, run.cursor, hi)
            kind = SettlementLine.Kind.SALE if sales else SettlementLine.Kind.REFUND
            if connection.vendor == "postgresql":
                _settle_chunk_in_one_statement(run, chunk, kind, items_sql, params)
            else:
                with connection.cursor() as cursor:
                    cursor.execute(_insert_lines_sql(run.pk, chunk, kind, items_sql), params)
                _append_ledger_for_chunk(run, chunk)
            items, lines, fen = _chunk_totals(run, chunk)
            run.cursor = hi
            run.chunks_done = chunk
            run.items_done += items
            run.lines_written += lines
            if sales:
                run.sales_amount += from_fen(fen)
            else:
                run.refunds_amount += from_fen(-fen)
            run.save(
                update_fields=["cursor", "chunks_done", "items_done", "lines_written", "sales_amount", "refunds_amount"]
            )
            return True
        # Dividends and payouts, then done — one transaction, so it happens once.
        dividends_and_payouts_write(run)
        run.dividend_amount = DividendLine.objects.filter(run=run).aggregate(s=Sum("amount"))["s"] or 0
        run.phase = SettlementRun.Phase.DONE
        run.status = SettlementRun.Status.COMPLETED
        run.items_done = max(run.items_done, run.items_total)
        run.items_total = run.items_done
        run.finished_at = timezone.now()
        run.save(update_fields=["dividend_amount", "phase", "status", "items_done", "items_total", "finished_at"])
        money_flow_refresh_soon()  # the published figures follow the run as soon as it commits
        return False


def _mark_failed(run_id: int, exc: BaseException) -> None:
    try:
        with transaction.atomic():
            SettlementRun.objects.filter(pk=run_id, status=SettlementRun.Status.RUNNING).update(
                status=SettlementRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]
            )
    except Exception:  # the database itself may be what failed
        log.exception("could not mark settlement run %s as interrupted", run_id)


def settlement_run(*, until: datetime.datetime | None = None, author=None, chunk_size: int | None = None) -> SettlementRun:
    """Settle everything paid (and every refund made) before ``until`` (default: now) and not yet
    settled; resume an unfinished run first. Returns the completed run."""
    run = settlement_run_start(until=until, author=author)
    try:
        while settlement_run_step(run_id=run.pk, chunk_size=chunk_size):
            pass
    except Exception as exc:
        _mark_failed(run.pk, exc)
        raise
    run.refresh_from_db()
    return run


def settlement_run_is_busy() -> SettlementRun | None:
    return SettlementRun.objects.filter(status=SettlementRun.Status.RUNNING).first()


def settlement_request(*, user, until: datetime.datetime | None = None) -> SettlementRun:
    """The county office starts a settlement from the admin: the run row now, the work in a task."""
    if not is_county_office(user):
        raise NotAllowed(_("Only the county office can start a settlement."))
    run = settlement_run_start(until=until, author=user)
    from .tasks import settlement_run_task

    transaction.on_commit(lambda: settlement_run_task.delay(run_id=run.pk))
    return run


# --- Payouts ---------------------------------------------------------------------------------


@transaction.atomic
def payout_mark_paid(*, payout: Payout | int, method: str, user, reference: str = "", paid_at=None) -> Payout:
    """Record that a payout was handed over (cash) or transferred (bank), by whom and when."""
    if not is_county_office(user):
        raise NotAllowed(_("Only the county office can record payouts."))
    if method not in Payout.Method.values:
        raise SettlementError(_("Choose how the payout was paid: cash or bank transfer."))
    pk = payout if isinstance(payout, int) else payout.pk
    locked = Payout.objects.select_for_update().get(pk=pk)
    if locked.status == Payout.Status.PAID:
        raise PayoutAlreadyPaid(_("This payout was already recorded as paid."))
    locked.status = Payout.Status.PAID
    locked.method = method
    locked.reference = reference[:64]
    locked.paid_by = user
    locked.paid_at = paid_at or timezone.now()
    locked.save(update_fields=["status", "method", "reference", "paid_by", "paid_at"])
    return locked


# --- Checks ----------------------------------------------------------------------------------


def settled_days_mismatches(*, by_channel: bool = False) -> list[str]:
    """For every day covered by a completed run: attributed revenue (the ledger's sales entries
    written by settlement) = net sales (units × price of the settled sales paid that day, less the
    refunds of them made that day), to the fen; and no sold unit paid before the cutoff is left
    unsettled. ``by_channel``: per day and sales channel (online, counter, canteen) — the income
    entry's channel against its order's. Returns the problems found (empty: all good). Aggregates
    in SQL."""
    last = SettlementRun.objects.filter(status=SettlementRun.Status.COMPLETED).order_by("-cutoff").first()
    if last is None:
        return []
    last_day = timezone.localdate(last.cutoff) - datetime.timedelta(days=1)
    group = ("date", "channel") if by_channel else ("date",)
    ledger = {
        (row["date"], row["channel"] if by_channel else ""): to_fen(row["s"])
        for row in IncomeEntry.objects.filter(kind="sales", source_type__in=["sale", "refund"], date__lte=last_day)
        .values(*group).annotate(s=Sum("amount")).order_by()
    }
    sold_day, sold_params = _local_date("o.paid_at")
    refund_day, refund_params = _local_date("rf.created_at")
    sl = _t(SettlementLine)
    channel = "o.channel" if by_channel else "''"
    net: dict[tuple[datetime.date, str], int] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT day, channel, CAST(SUM(fen) AS BIGINT) FROM (
                SELECT {sold_day} AS day, {channel} AS channel, olb.units * {_fen("ol.unit_price")} AS fen
                FROM {_t(OrderLineBatch)} olb JOIN {_t(OrderLine)} ol ON ol.id = olb.line_id JOIN {_t(Order)} o ON o.id = ol.order_id
                WHERE EXISTS (SELECT 1 FROM {sl} sl WHERE sl.order_line_id = olb.line_id AND sl.batch_id = olb.batch_id
                              AND sl.kind = 'sale')
                UNION ALL
                SELECT {refund_day} AS day, {channel} AS channel, -{_fen("rl.amount")} AS fen
                FROM {_t(RefundLine)} rl JOIN {_t(Refund)} rf ON rf.id = rl.refund_id
                JOIN {_t(OrderLine)} ol ON ol.id = rl.line_id JOIN {_t(Order)} o ON o.id = ol.order_id
                WHERE EXISTS (SELECT 1 FROM {sl} sl WHERE sl.refund_line_id = rl.id AND sl.kind = 'refund')
            ) sales GROUP BY day, channel
            """,
            [*sold_params, *refund_params],
        )
        for day, chan, fen in cursor.fetchall():
            if isinstance(day, str):
                day = datetime.date.fromisoformat(day)
            if day <= last_day:
                net[(day, chan)] = int(fen)
        cursor.execute(
            f"""
            SELECT COUNT(*) FROM {_t(OrderLineBatch)} olb JOIN {_t(OrderLine)} ol ON ol.id = olb.line_id
            JOIN {_t(Order)} o ON o.id = ol.order_id
            WHERE o.status IN ({SOLD_SQL}) AND o.paid_at < %s
              AND NOT EXISTS (SELECT 1 FROM {sl} sl WHERE sl.order_line_id = olb.line_id AND sl.batch_id = olb.batch_id
                              AND sl.kind = 'sale')
            """,
            [_ts(last.cutoff)],
        )
        unsettled = cursor.fetchone()[0]
    problems = [
        f"{day}{f' {chan}' if chan else ''}: attributed {from_fen(ledger.get((day, chan), 0))} != net sales "
        f"{from_fen(net.get((day, chan), 0))}"
        for day, chan in sorted(set(net) | set(ledger))
        if ledger.get((day, chan), 0) != net.get((day, chan), 0)
    ]
    if unsettled:
        problems.append(f"{unsettled} sold order-line batches paid before {last.code}'s cutoff are not settled")
    return problems
