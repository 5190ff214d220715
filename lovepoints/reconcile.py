"""Love points' reconciliation checks, registered with the project's ``reconcile`` command.

Each is one aggregate SQL statement returning only what does not balance:
- per household: points awarded − redeemed = balance (the account's counters against the
  ledger, and every ``balance_after`` the running sum);
- every award of an approved month is in the ledger once with its points, none of another month;
- every redemption's points = its lines = what left the ledger;
- per village and item: goods in − out ± stock-take = on hand.
"""

from __future__ import annotations

from django.db import connection

from core.reconcile import register_check

from .models import Award, GoodsItem, GoodsMovement, PointsAccount, PointsEntry, Redemption, RedemptionLine, ReviewMonth


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _rows(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def check_household_balances() -> list[str]:
    problems = []
    sql = f"""
        SELECT a.household_id, a.earned, a.redeemed, a.balance, COALESCE(l.awarded, 0), COALESCE(l.redeemed, 0), l.last_balance
        FROM {_t(PointsAccount)} a LEFT JOIN (
            SELECT household_id,
                   SUM(CASE WHEN kind = 'award' THEN points ELSE 0 END) AS awarded,
                   -SUM(CASE WHEN kind = 'redemption' THEN points ELSE 0 END) AS redeemed,
                   (SELECT e2.balance_after FROM {_t(PointsEntry)} e2 WHERE e2.household_id = e.household_id ORDER BY e2.id DESC LIMIT 1) AS last_balance
            FROM {_t(PointsEntry)} e GROUP BY household_id
        ) l ON l.household_id = a.household_id
        WHERE a.earned <> COALESCE(l.awarded, 0) OR a.redeemed <> COALESCE(l.redeemed, 0)
           OR a.balance <> a.earned - a.redeemed OR a.balance <> COALESCE(l.last_balance, 0) OR a.balance < 0
    """
    for hid, earned, redeemed, balance, l_awarded, l_redeemed, last in _rows(sql):
        problems.append(f"household {hid}: account earned {earned} / redeemed {redeemed} / balance {balance} ≠ ledger awarded "
                        f"{l_awarded} / redeemed {l_redeemed} / last balance {last}")
    sql = f"""
        SELECT household_id, id, balance_after, running FROM (
            SELECT household_id, id, balance_after,
                   SUM(points) OVER (PARTITION BY household_id ORDER BY id ROWS UNBOUNDED PRECEDING) AS running
            FROM {_t(PointsEntry)}
        ) ledger WHERE balance_after <> running OR balance_after < 0
    """
    for hid, eid, after, running in _rows(sql):
        problems.append(f"household {hid}: ledger entry {eid} balance after {after} ≠ running sum {running}")
    orphans = f"""
        SELECT DISTINCT e.household_id FROM {_t(PointsEntry)} e
        LEFT JOIN {_t(PointsAccount)} a ON a.household_id = e.household_id WHERE a.household_id IS NULL
    """
    problems += [f"household {hid}: ledger entries without an account" for (hid,) in _rows(orphans)]
    return problems


def check_awards_in_ledger() -> list[str]:
    sql = f"""
        SELECT aw.id, r.status, e.id, aw.points, e.points, aw.household_id, e.household_id
        FROM {_t(Award)} aw JOIN {_t(ReviewMonth)} r ON r.id = aw.review_id
        LEFT JOIN {_t(PointsEntry)} e ON e.award_id = aw.id
        WHERE (r.status = 'approved' AND (e.id IS NULL OR e.points <> aw.points OR e.household_id <> aw.household_id))
           OR (r.status <> 'approved' AND e.id IS NOT NULL)
    """
    return [
        f"award {aid} ({status}): ledger entry {eid} points {ep} household {eh} ≠ award points {ap} household {ah}"
        for aid, status, eid, ap, ep, ah, eh in _rows(sql)
    ]


def check_redemptions() -> list[str]:
    sql = f"""
        SELECT r.id, r.points, COALESCE(l.total, 0), COALESCE(e.points, 0), COALESCE(e.n, 0), COALESCE(m.units, 0), COALESCE(l.units, 0)
        FROM {_t(Redemption)} r
        LEFT JOIN (SELECT redemption_id, SUM(quantity * points_each) AS total, SUM(quantity) AS units
                   FROM {_t(RedemptionLine)} GROUP BY redemption_id) l ON l.redemption_id = r.id
        LEFT JOIN (SELECT redemption_id, SUM(points) AS points, COUNT(*) AS n FROM {_t(PointsEntry)}
                   WHERE redemption_id IS NOT NULL GROUP BY redemption_id) e ON e.redemption_id = r.id
        LEFT JOIN (SELECT rl.redemption_id, -SUM(gm.quantity) AS units FROM {_t(GoodsMovement)} gm
                   JOIN {_t(RedemptionLine)} rl ON rl.id = gm.redemption_line_id GROUP BY rl.redemption_id) m ON m.redemption_id = r.id
        WHERE r.points <> COALESCE(l.total, 0) OR -COALESCE(e.points, 0) <> r.points OR COALESCE(e.n, 0) <> 1
           OR COALESCE(m.units, 0) <> COALESCE(l.units, 0)
    """
    return [
        f"redemption {rid}: {points} points ≠ lines {lines} / ledger {-ledger} ({n} entries); goods out {moved} ≠ lines' units {units}"
        for rid, points, lines, ledger, n, moved, units in _rows(sql)
    ]


def check_goods_on_hand() -> list[str]:
    sql = f"""
        SELECT i.village_id, i.id, i.name, i.on_hand, COALESCE(m.total, 0), COALESCE(m.received, 0), COALESCE(m.given, 0), COALESCE(m.counted, 0)
        FROM {_t(GoodsItem)} i LEFT JOIN (
            SELECT item_id, SUM(quantity) AS total,
                   SUM(CASE WHEN kind = 'receipt' THEN quantity ELSE 0 END) AS received,
                   -SUM(CASE WHEN kind = 'redemption' THEN quantity ELSE 0 END) AS given,
                   SUM(CASE WHEN kind = 'stocktake' THEN quantity ELSE 0 END) AS counted
            FROM {_t(GoodsMovement)} GROUP BY item_id
        ) m ON m.item_id = i.id
        WHERE i.on_hand <> COALESCE(m.total, 0) OR i.on_hand < 0
    """
    return [
        f"village {vid} item {name} ({iid}): in {received} − out {given} ± stock-take {counted} = {total} ≠ on hand {on_hand}"
        for vid, iid, name, on_hand, total, received, given, counted in _rows(sql)
    ]


def register() -> None:
    register_check("love_points_balances")(check_household_balances)
    register_check("love_points_awards")(check_awards_in_ledger)
    register_check("love_points_redemptions")(check_redemptions)
    register_check("love_points_goods")(check_goods_on_hand)
