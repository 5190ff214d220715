"""Reconciliation: checks that the books balance, run by ``python manage.py reconcile``.

Pluggable (the registry is core/reconcile.py): a check is a function ``fn() -> list[str]`` (the problems found, each naming what is
out of balance) registered under a name with ``@register_check("name")``. Logistics registers
its own here; other apps register theirs from their ``AppConfig.ready()`` (marketplace:
allocation balances; settlement: attributed revenue), importing this module — never the other
way round.

Every logistics check is one aggregate SQL statement (GROUP BY), returning only the rows that
do not balance, so the command stays fast at hundreds of thousands of lots.

The lot balance, per lot (see services/shipments.py for how loss in transit is booked)::

    intake − void = on hand (all facilities) + in transit + consumed by packing + loss

and, separately, each kind of movement equals its document: intake movements = the Intake's
weight, ship-out = the shipment lines dispatched, receive = lines of received shipments,
transit loss = dispatched − received, pack = the packing inputs. A packing run's inputs equal
units × net weight + waste, and its batch's household shares add up to its inputs. Retail
units, per batch: packed = on hand + in transit + sold − returned + loss (an ``expired`` write-off
is recorded loss), and every BatchStock
counter equals the sum of its BatchMovement rows. A movement no service writes (an ``adjust``
made by hand) has no document behind it, so it shows as an imbalance until explained.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import connection

from core.money import kg
from core.reconcile import Check, register_check, registered_checks, run_checks  # noqa: F401  (re-exported: apps register here)

from .models import (
    BatchMovement,
    BatchShare,
    BatchStock,
    Facility,
    Intake,
    IntakeVoid,
    Lot,
    LotMovement,
    PackedBatch,
    PackingInput,
    PackingRun,
    Shipment,
    ShipmentLine,
)

EPS = "0.0005"  # half a gram: SQLite sums decimals as floats


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _kg(value) -> Decimal:
    return kg(Decimal(str(value or 0)))


def _differs(a: str, b: str) -> str:
    return f"ABS(({a}) - ({b})) > {EPS}"


@register_check("lot_balance")
def check_lot_balance() -> list[str]:
    """Per lot: movements against their documents, and intake − void = on hand + in transit + packed + loss."""
    parts = {
        "intake_m": "m.intake", "void_m": "m.void", "ship_m": "m.ship_out", "recv_m": "m.recv", "tloss_m": "m.tloss",
        "pack_m": "m.pack", "loss_m": "m.loss_all", "total_m": "m.total",
        "intake_d": "COALESCE(i.weight_kg, 0)", "void_d": "CASE WHEN v.id IS NULL THEN 0 ELSE i.weight_kg END",
        "disp_d": "COALESCE(s.dispatched, 0)", "recv_d": "COALESCE(s.recv, 0)", "short_d": "COALESCE(s.short, 0)",
        "transit_d": "COALESCE(s.transit, 0)", "pack_d": "COALESCE(p.packed, 0)",
    }
    c = {k: f"COALESCE({v}, 0)" if k.endswith("_m") else v for k, v in parts.items()}
    balance = f"({c['intake_d']}) - ({c['void_d']}) - {c['total_m']} - ({c['transit_d']}) - ({c['pack_d']}) + {c['loss_m']}"
    conditions = [
        _differs(c["intake_m"], c["intake_d"]),
        _differs(c["void_m"], f"-({c['void_d']})"),
        _differs(c["ship_m"], f"-({c['disp_d']})"),
        _differs(c["recv_m"], c["recv_d"]),
        _differs(c["tloss_m"], f"-({c['short_d']})"),
        _differs(c["pack_m"], f"-({c['pack_d']})"),
        f"ABS({balance}) > {EPS}",
    ]
    sql = f"""
        SELECT l.code, {', '.join(f'{v}' for v in c.values())}, {balance}
        FROM {_t(Lot)} l
        LEFT JOIN {_t(Intake)} i ON i.lot_id = l.id
        LEFT JOIN {_t(IntakeVoid)} v ON v.intake_id = i.id
        LEFT JOIN (
            SELECT lot_id,
                SUM(CASE WHEN kind = 'intake' THEN quantity_kg ELSE 0 END) AS intake,
                SUM(CASE WHEN kind = 'void' THEN quantity_kg ELSE 0 END) AS void,
                SUM(CASE WHEN kind = 'ship_out' THEN quantity_kg ELSE 0 END) AS ship_out,
                SUM(CASE WHEN kind = 'receive' THEN quantity_kg ELSE 0 END) AS recv,
                SUM(CASE WHEN kind = 'loss' AND reference_type = 'shipment' THEN quantity_kg ELSE 0 END) AS tloss,
                SUM(CASE WHEN kind IN ('loss', 'waste') THEN quantity_kg ELSE 0 END) AS loss_all,
                SUM(CASE WHEN kind = 'pack' THEN quantity_kg ELSE 0 END) AS pack,
                SUM(quantity_kg) AS total
            FROM {_t(LotMovement)} GROUP BY lot_id
        ) m ON m.lot_id = l.id
        LEFT JOIN (
            SELECT sl.lot_id,
                SUM(sl.dispatched) AS dispatched,
                SUM(CASE WHEN sh.status = 'received' THEN sl.dispatched ELSE 0 END) AS recv,
                SUM(CASE WHEN sh.status = 'received' THEN sl.dispatched - sl.received ELSE 0 END) AS short,
                SUM(CASE WHEN sh.status = 'received' THEN 0 ELSE sl.dispatched END) AS transit
            FROM {_t(ShipmentLine)} sl JOIN {_t(Shipment)} sh ON sh.id = sl.shipment_id
            WHERE sl.lot_id IS NOT NULL GROUP BY sl.lot_id
        ) s ON s.lot_id = l.id
        LEFT JOIN (SELECT lot_id, SUM(quantity_kg) AS packed FROM {_t(PackingInput)} GROUP BY lot_id) p ON p.lot_id = l.id
        WHERE {' OR '.join(conditions)}
        ORDER BY l.code
    """
    names = list(c)
    problems = []
    for row in _rows(sql):
        code, values, bal = row[0], dict(zip(names, (_kg(x) for x in row[1:-1]), strict=True)), _kg(row[-1])
        pairs = [
            ("intake movements", values["intake_m"], "the intake's weight", values["intake_d"]),
            ("void movements", values["void_m"], "minus the voided weight", -values["void_d"]),
            ("ship-out movements", values["ship_m"], "minus the dispatched weight", -values["disp_d"]),
            ("receive movements", values["recv_m"], "the weight of received shipments", values["recv_d"]),
            ("transit-loss movements", values["tloss_m"], "minus the shipments' shortfall", -values["short_d"]),
            ("packing movements", values["pack_m"], "minus the packing inputs", -values["pack_d"]),
        ]
        said = [f"{a} {x} kg ≠ {b} {y} kg" for a, x, b, y in pairs if abs(x - y) > Decimal(EPS)]
        if abs(bal) > Decimal(EPS):
            said.append(
                f"intake {values['intake_d']} − void {values['void_d']} ≠ on hand {values['total_m']} + in transit "
                f"{values['transit_d']} + packed {values['pack_d']} + loss {-values['loss_m']} (off by {bal} kg)"
            )
        problems.append(f"lot {code}: " + "; ".join(said))
    return problems


@register_check("lot_on_hand_not_negative")
def check_lot_on_hand_not_negative() -> list[str]:
    sql = f"""
        SELECT l.code, f.code, SUM(m.quantity_kg)
        FROM {_t(LotMovement)} m JOIN {_t(Lot)} l ON l.id = m.lot_id JOIN {_t(Facility)} f ON f.id = m.facility_id
        GROUP BY l.code, f.code HAVING SUM(m.quantity_kg) < -{EPS}
        ORDER BY l.code, f.code
    """
    return [f"lot {lot} at {fac}: on hand {_kg(q)} kg is negative" for lot, fac, q in _rows(sql)]


@register_check("facility_balance")
def check_facility_balance() -> list[str]:
    """Per facility: intake + received = on hand + shipped out + consumed by packing + loss + void,
    each side from its documents, and on hand never negative."""
    moves = {
        (fid, kind): _kg(q)
        for fid, kind, q in _rows(f"SELECT facility_id, kind, SUM(quantity_kg) FROM {_t(LotMovement)} GROUP BY facility_id, kind")
    }
    docs: dict[tuple[int, str], Decimal] = {}
    for fid, q in _rows(f"SELECT collection_point_id, SUM(weight_kg) FROM {_t(Intake)} GROUP BY collection_point_id"):
        docs[(fid, "intake")] = _kg(q)
    for fid, q in _rows(
        f"SELECT i.collection_point_id, SUM(i.weight_kg) FROM {_t(IntakeVoid)} v JOIN {_t(Intake)} i ON i.id = v.intake_id "
        "GROUP BY i.collection_point_id"
    ):
        docs[(fid, "void")] = -_kg(q)
    for fid, q in _rows(
        f"SELECT sh.origin_id, SUM(sl.dispatched) FROM {_t(ShipmentLine)} sl JOIN {_t(Shipment)} sh ON sh.id = sl.shipment_id "
        "WHERE sl.lot_id IS NOT NULL GROUP BY sh.origin_id"
    ):
        docs[(fid, "ship_out")] = -_kg(q)
    for fid, q in _rows(
        f"SELECT sh.destination_id, SUM(sl.dispatched) FROM {_t(ShipmentLine)} sl JOIN {_t(Shipment)} sh ON sh.id = sl.shipment_id "
        "WHERE sl.lot_id IS NOT NULL AND sh.status = 'received' GROUP BY sh.destination_id"
    ):
        docs[(fid, "receive")] = _kg(q)
    for fid, q in _rows(
        f"SELECT r.station_id, SUM(pi.quantity_kg) FROM {_t(PackingInput)} pi JOIN {_t(PackingRun)} r ON r.id = pi.run_id "
        "GROUP BY r.station_id"
    ):
        docs[(fid, "pack")] = -_kg(q)
    codes = dict(Facility.objects.values_list("pk", "code"))
    problems = []
    labels = {"intake": "intake", "void": "void", "ship_out": "shipped out", "receive": "received", "pack": "consumed by packing"}
    for fid in sorted({f for f, _k in moves} | {f for f, _k in docs}):
        for kind, label in labels.items():
            m, d = moves.get((fid, kind), Decimal(0)), docs.get((fid, kind), Decimal(0))
            if abs(m - d) > Decimal(EPS):
                problems.append(f"facility {codes.get(fid, fid)}: {label} movements {m} kg ≠ documents {d} kg")
        on_hand = sum((q for (f, _k), q in moves.items() if f == fid), Decimal(0))
        if on_hand < -Decimal(EPS):
            problems.append(f"facility {codes.get(fid, fid)}: on hand {on_hand} kg is negative")
    return problems


@register_check("packing_runs")
def check_packing_runs() -> list[str]:
    """Inputs = units × net weight + waste; household shares add up to the inputs."""
    sql = f"""
        SELECT b.code, COALESCE(p.inputs, 0), b.units * b.unit_weight_kg + r.waste_kg, COALESCE(sh.shares, 0)
        FROM {_t(PackedBatch)} b JOIN {_t(PackingRun)} r ON r.id = b.packing_run_id
        LEFT JOIN (SELECT run_id, SUM(quantity_kg) AS inputs FROM {_t(PackingInput)} GROUP BY run_id) p ON p.run_id = r.id
        LEFT JOIN (SELECT batch_id, SUM(weight_kg) AS shares FROM {_t(BatchShare)} GROUP BY batch_id) sh ON sh.batch_id = b.id
        WHERE {_differs('COALESCE(p.inputs, 0)', 'b.units * b.unit_weight_kg + r.waste_kg')}
           OR {_differs('COALESCE(p.inputs, 0)', 'COALESCE(sh.shares, 0)')}
        ORDER BY b.code
    """
    problems = []
    for code, inputs, out, shares in _rows(sql):
        inputs, out, shares = _kg(inputs), _kg(out), _kg(shares)
        if abs(inputs - out) > Decimal(EPS):
            problems.append(f"batch {code}: inputs {inputs} kg ≠ units × net weight + waste {out} kg")
        if abs(inputs - shares) > Decimal(EPS):
            problems.append(f"batch {code}: household shares {shares} kg ≠ inputs {inputs} kg")
    return problems


@register_check("batch_stock_counters")
def check_batch_stock_counters() -> list[str]:
    """Every BatchStock counter (quantity, reserved) equals the sum of its BatchMovement rows."""
    grouped = f"SELECT batch_id, facility_id, SUM(quantity_delta) AS q, SUM(reserved_delta) AS r FROM {_t(BatchMovement)} GROUP BY batch_id, facility_id"
    sql = f"""
        SELECT b.code, f.code, s.quantity, s.reserved, COALESCE(m.q, 0), COALESCE(m.r, 0)
        FROM {_t(BatchStock)} s LEFT JOIN ({grouped}) m ON m.batch_id = s.batch_id AND m.facility_id = s.facility_id
        JOIN {_t(PackedBatch)} b ON b.id = s.batch_id JOIN {_t(Facility)} f ON f.id = s.facility_id
        WHERE s.quantity <> COALESCE(m.q, 0) OR s.reserved <> COALESCE(m.r, 0) OR s.quantity < 0 OR s.reserved < 0 OR s.reserved > s.quantity
        UNION ALL
        SELECT b.code, f.code, NULL, NULL, m.q, m.r
        FROM ({grouped}) m LEFT JOIN {_t(BatchStock)} s ON s.batch_id = m.batch_id AND s.facility_id = m.facility_id
        JOIN {_t(PackedBatch)} b ON b.id = m.batch_id JOIN {_t(Facility)} f ON f.id = m.facility_id
        WHERE s.id IS NULL
        ORDER BY 1, 2
    """
    problems = []
    for batch, fac, q, r, mq, mr in _rows(sql):
        if q is None:
            problems.append(f"batch {batch} at {fac}: movements ({mq} units, {mr} reserved) but no stock row")
        else:
            problems.append(f"batch {batch} at {fac}: stock {q} units / {r} reserved ≠ movements {mq} units / {mr} reserved")
    return problems


@register_check("batch_balance")
def check_batch_balance() -> list[str]:
    """Per batch: packed = on hand + in transit + sold − returned + loss, and movements match documents."""
    sql = f"""
        SELECT b.code, b.units, COALESCE(st.on_hand, 0), COALESCE(s.transit, 0), COALESCE(m.packed, 0), COALESCE(m.sold, 0),
               COALESCE(m.returned, 0), COALESCE(m.loss, 0), COALESCE(m.ship_out, 0), COALESCE(s.dispatched, 0),
               COALESCE(m.recv, 0), COALESCE(s.recv, 0), COALESCE(m.tloss, 0), COALESCE(s.short, 0)
        FROM {_t(PackedBatch)} b
        LEFT JOIN (SELECT batch_id, SUM(quantity) AS on_hand FROM {_t(BatchStock)} GROUP BY batch_id) st ON st.batch_id = b.id
        LEFT JOIN (
            SELECT batch_id,
                SUM(CASE WHEN kind = 'packed' THEN quantity_delta ELSE 0 END) AS packed,
                SUM(CASE WHEN kind = 'sell' THEN -quantity_delta ELSE 0 END) AS sold,
                SUM(CASE WHEN kind = 'return' THEN quantity_delta ELSE 0 END) AS returned,
                SUM(CASE WHEN kind IN ('loss', 'expired', 'stocktake') THEN -quantity_delta ELSE 0 END) AS loss,
                SUM(CASE WHEN kind = 'loss' AND reference_type = 'shipment' THEN -quantity_delta ELSE 0 END) AS tloss,
                SUM(CASE WHEN kind = 'ship_out' THEN -quantity_delta ELSE 0 END) AS ship_out,
                SUM(CASE WHEN kind = 'receive' THEN quantity_delta ELSE 0 END) AS recv
            FROM {_t(BatchMovement)} GROUP BY batch_id
        ) m ON m.batch_id = b.id
        LEFT JOIN (
            SELECT sl.batch_id,
                SUM(sl.dispatched) AS dispatched,
                SUM(CASE WHEN sh.status = 'received' THEN sl.dispatched ELSE 0 END) AS recv,
                SUM(CASE WHEN sh.status = 'received' THEN sl.dispatched - sl.received ELSE 0 END) AS short,
                SUM(CASE WHEN sh.status = 'received' THEN 0 ELSE sl.dispatched END) AS transit
            FROM {_t(ShipmentLine)} sl JOIN {_t(Shipment)} sh ON sh.id = sl.shipment_id
            WHERE sl.batch_id IS NOT NULL GROUP BY sl.batch_id
        ) s ON s.batch_id = b.id
        WHERE b.units <> COALESCE(m.packed, 0)
           OR {_differs('b.units', 'COALESCE(st.on_hand, 0) + COALESCE(s.transit, 0) + COALESCE(m.sold, 0) - COALESCE(m.returned, 0) + COALESCE(m.loss, 0)')}
           OR {_differs('COALESCE(m.ship_out, 0)', 'COALESCE(s.dispatched, 0)')}
           OR {_differs('COALESCE(m.recv, 0)', 'COALESCE(s.recv, 0)')}
           OR {_differs('COALESCE(m.tloss, 0)', 'COALESCE(s.short, 0)')}
        ORDER BY b.code
    """
    problems = []
    for row in _rows(sql):
        code, units, on_hand, transit, packed, sold, returned, loss, ship_m, ship_d, recv_m, recv_d, tloss_m, short_d = row
        said = []
        if int(packed) != int(units):
            said.append(f"packed movements {int(packed)} ≠ units packed {units}")
        total = int(on_hand) + int(transit) + int(sold) - int(returned) + int(loss)
        if total != int(units):
            said.append(
                f"packed {units} ≠ on hand {int(on_hand)} + in transit {int(transit)} + sold {int(sold)} − returned {int(returned)}"
                f" + loss {int(loss)}"
            )
        for label, m, d in (("shipped out", ship_m, ship_d), ("received", recv_m, recv_d), ("transit loss", tloss_m, short_d)):
            if int(Decimal(str(m))) != int(Decimal(str(d))):
                said.append(f"{label} movements {int(Decimal(str(m)))} ≠ shipment lines {int(Decimal(str(d)))}")
        problems.append(f"batch {code}: " + "; ".join(said))
    return problems


@register_check("cash_sheets")
def cash_sheets_balance() -> list[str]:
    """Per collection point, walking its days: cash at the end of each day = advances − net intake
    payments so far (the daily sheets chained), and the last day's end equals the point's balance
    from plain totals. A point that keeps a cash sheet (it was advanced cash) must never end a day
    below zero: it would have paid households cash it did not have."""
    from django.utils import timezone

    from .selectors.cash import cash_balances, cash_days, points_keeping_cash

    walked = cash_days()
    if not walked:
        return []
    keeping = points_keeping_cash()
    last_day = max(max(d for d, _a, _n in days) for days in walked.values())
    points = Facility.objects.filter(pk__in=walked)
    totals = {b.point.pk: b for b in cash_balances(day=max(last_day, timezone.localdate()), points=points)}
    codes = {p.pk: p.code for p in points}
    problems = []
    for point_id, days in sorted(walked.items()):
        advanced = net_paid = Decimal("0.00")
        for day, adv, net in days:
            advanced += adv
            net_paid += net
            end = advanced - net_paid
            if point_id in keeping and end < 0:
                problems.append(
                    f"cash at point {codes[point_id]} on {day}: end {end} is below zero (paid {net_paid} against advances {advanced})"
                )
        total = totals[point_id]
        if (total.advances, total.net_paid) != (advanced, net_paid):
            problems.append(
                f"cash at point {codes[point_id]}: days add up to advances {advanced} − paid {net_paid}, "
                f"totals say {total.advances} − {total.net_paid}"
            )
    return problems


@register_check("stocktakes")
def check_stocktakes() -> list[str]:
    """Every posted stock-take's differences are in the books once: per stock-take and batch,
    the ``stocktake`` movements equal the lines' posted units (counted − book when counted), and
    no such movement exists without a posted stock-take behind it."""
    from django.db.models import Sum

    from .models import StockTakeLine

    posted: dict[tuple[str, str], int] = {}
    for line in (StockTakeLine.objects.filter(stocktake__status="posted")
                 .values_list("stocktake__code", "batch__code", "posted_delta", "counted", "book_at_count")):
        code, batch, delta, counted, book = line
        units = delta if delta is not None else (counted or 0) - (book or 0)
        posted[(code, batch)] = posted.get((code, batch), 0) + units
    moved = {
        (code, batch): int(q or 0)
        for code, batch, q in BatchMovement.objects.filter(kind="stocktake").order_by().values_list("reference_code", "batch__code")
        .annotate(q=Sum("quantity_delta")).values_list("reference_code", "batch__code", "q")
    }
    return [
        f"stock-take {code} batch {batch}: posted {posted.get((code, batch), 0)} units ≠ stocktake movements {moved.get((code, batch), 0)}"
        for code, batch in sorted(set(posted) | set(moved))
        if posted.get((code, batch), 0) != moved.get((code, batch), 0)
    ]
