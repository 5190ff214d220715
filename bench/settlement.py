"""Benchmark: settle a year of sold units on PostgreSQL, and time the county income report.

    .venv/bin/python bench/settlement.py                        # 100,000 / 300,000 / 1,000,000 units
    .venv/bin/python bench/settlement.py --sizes 20000 50000    # a quick run

Data (25,000 households, 50,000 batches of 160 units packed from four households' lots of one
produce, orders of three lines of four units by the three channels) is generated with INSERT …
SELECT generate_series into the database ``relief_settlement_bench`` (or BENCH_DATABASE_URL),
recreated from scratch; the sales are the whole of 2025, each product's batches sold out one after
the other (earliest expiry first, as checkout takes them). For each size the orders are regenerated
and one settlement run settles them all (1 % of lines refunded one unit); prints wall time, units/s
and the CPU it took (PostgreSQL backend + Python: the figure to compare on a loaded machine), then
the reconcile checks on what it wrote (zero problems required). Then 200,000 intake entries (eight
a household through its harvest) bring the ledger to ~1.2 M entries at 1 M units, and the county
income report over the year is timed cold (see ``report_cold``) beside the GROUP BYs over the
ledger it replaced, measured in the same run. Goals: 1,000,000 units under 30 s, linear; the
report under 500 ms cold. ``--profile`` prints cProfile and the time of each kind of statement.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/relief_settlement_bench")
os.environ["DATABASE_URL"] = DB_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.pop("REDIS_URL", None)

HOUSEHOLDS = 25_000
BATCHES = 50_000
BATCH_UNITS = 160  # a packing run: four households' ~100 kg each into 2.5 kg boxes
SHARES_PER_BATCH = 4
UNITS_PER_LINE = 4
LINES_PER_ORDER = 3
EMPLOYEES = 5_000
EMPLOYERS = 50
PRODUCE = (("chestnut", "板栗"), ("walnut", "核桃"), ("tea", "茶叶"), ("fungi", "香菇"))
INTAKES_PER_HOUSEHOLD = 8
PRICES = ["48.80", "66.00", "35.50", "120.00"]


def recreate_database() -> None:
    import psycopg

    name = DB_URL.rsplit("/", 1)[1]
    admin = DB_URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def sql(statement: str, params=None) -> int:
    """Run ``statement`` (no parameters: a literal ``%`` is an operator)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def scalar(statement: str, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone()[0]


def backend_cpu_seconds() -> float:
    """CPU time the PostgreSQL backend serving this connection has used (user + system), from
    /proc: what the run costs regardless of how loaded the machine is."""
    pid = scalar("SELECT pg_backend_pid()")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def insert_select(model, columns: str, select: str) -> int:
    """``INSERT INTO <model's table> (columns) <select>``, refusing first (with the names) when the
    column list leaves out a NOT NULL field that has no database default: Django fills defaults in
    Python, so a raw INSERT written before a model gained a field fails otherwise deep in the
    database with "null value in column …" — this says which model and which fields to add."""
    given = {c.strip() for c in columns.split(",")}
    missing = [
        f.column for f in model._meta.concrete_fields
        if not f.primary_key and not f.null and f.column not in given and not f.has_db_default()
    ]
    if missing:
        raise SystemExit(f"bench seed out of date: {model.__name__} needs {', '.join(missing)} (read its model)")
    return sql(f"INSERT INTO {model._meta.db_table} ({columns}) {select}")


def seed_fixed() -> dict:
    """Townships, villages, households, SKUs, products, batches with shares, employers, employees
    with their memberships, the allocation year — as the app's services would leave them."""
    import datetime
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from households.models import Household, Township, Village
    from logistics.models import BatchShare, Facility, Grade, PackedBatch, PackingRun, Produce, Sku
    from marketplace.models import MEMBERSHIP_EPOCH, AllocationYear, Employee, Employer, Membership, Product

    townships = [Township.objects.create(code=f"611025{100 + i}", name=f"镇{i:02d}") for i in range(15)]
    villages = [Village.objects.create(township=t, code=f"{t.code}{j:03d}", name=f"村{j}") for t in townships for j in range(10)]
    v0 = villages[0].pk
    insert_select(
        Household,
        """number, head_name, id_number, phone, members, village_id, labour_class, sub_class,
            poverty_status, lifted_year, flag_illness_disability, flag_elderly_alone, flag_relocated_commuting,
            flag_income_decline, flag_marginal, payout_bank, payout_account, created_at, updated_at""",
        f"""SELECT 'H' || lpad(g::text, 8, '0'), '户主' || g, '611025197501010' || lpad((g % 1000)::text, 3, '0'), '',
               3, {v0} + (g % 150), CASE g % 3 WHEN 0 THEN 'able' WHEN 1 THEN 'weak' ELSE 'none' END,
               CASE g % 3 WHEN 0 THEN 'assured' WHEN 1 THEN 'bottom' ELSE 'supported' END, 'lifted', 2018,
               false, false, false, false, false, '', '6217' || lpad(g::text, 15, '0'), now(), now()
        FROM generate_series(1, {HOUSEHOLDS}) g""",
    )
    user = get_user_model().objects.create(username="bench")
    station = Facility.objects.create(kind="station", code="ST-BENCH", name="分拣站", township=townships[0])
    produce = [Produce.objects.create(code=c, name=n, category=c) for c, n in PRODUCE]
    skus = []
    for i, p in enumerate(produce):
        grade = Grade.objects.create(produce=p, code="grade1", name="一级", rank=1)
        sku = Sku.objects.create(code=f"SKU-B{i}", name=f"{p.name} 礼盒", produce=p, grade=grade, unit_weight_kg=Decimal("2.500"))
        Product.objects.create(sku=sku, name=sku.name, price=Decimal(PRICES[i]))
        skus.append(sku)
    sku0 = skus[0].pk
    insert_select(
        PackingRun, "code, station_id, sku_id, waste_kg, created_by_id, created_at",
        f"SELECT 'PR-B' || g, {station.pk}, {sku0} + ((g - 1) % 4), 0, {user.pk}, now() FROM generate_series(1, {BATCHES}) g",
    )
    insert_select(
        PackedBatch,
        "code, sku_id, station_id, packing_run_id, units, unit_weight_kg, best_before, packed_at, inspection_status, on_hold, hold_reason",
        f"""SELECT 'PB-B' || substr(r.code, 5), r.sku_id, r.station_id, r.id, {BATCH_UNITS}, 2.5, '2027-12-31', now(), 'passed', false, ''
        FROM logistics_packingrun r ORDER BY r.id""",
    )
    b0 = scalar("SELECT MIN(id) FROM logistics_packedbatch")
    h0 = scalar("SELECT MIN(id) FROM households_household")
    insert_select(
        BatchShare, "batch_id, household_id, weight_kg",
        # A batch of produce i (its SKU) packs the lots of four households growing produce i
        # (household h grows produce (h - h0) % 4, as its intake entries say); the first 6,250
        # batches take every household once.
        f"""SELECT b.id, {h0} + ((((b.id - {b0}) / 4) * {SHARES_PER_BATCH} + k) * 4 + (b.id - {b0}) % 4) % {HOUSEHOLDS},
               0.5 + ((b.id * (k + 3)) % 97) / 10.0
        FROM logistics_packedbatch b CROSS JOIN generate_series(0, {SHARES_PER_BATCH - 1}) k""",
    )
    # Work units (单位): employees spread over them; each employee has the membership
    # services.employees writes for a bulk-created employee (open since MEMBERSHIP_EPOCH), and
    # one in fifty moved to another unit on 1 July 2025 (the first range closed, a second opened,
    # Employee.employer following the open one) — as employee_move leaves it.
    employers = [Employer.objects.create(code=f"E-B{i:02d}", name=f"县直单位{i:02d}") for i in range(EMPLOYERS)]
    er0 = employers[0].pk
    sql(
        f"""INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
        SELECT '!', false, 'emp' || g, '', '', '', false, true, now() FROM generate_series(1, {EMPLOYEES}) g"""
    )
    insert_select(
        Employee, "user_id, employer_id, staff_number, name, phone, active",
        f"""SELECT u.id, {er0} + (n + CASE WHEN n % 50 = 0 THEN 1 ELSE 0 END) % {EMPLOYERS},
               'S' || n, '职工' || n, '139' || lpad(n::text, 8, '0'), true
        FROM (SELECT id, substr(username, 4)::int AS n FROM auth_user WHERE username ~ '^emp[0-9]+$' OFFSET 0) u ORDER BY u.id""",
    )
    move_day = datetime.date(2025, 7, 1)
    insert_select(
        Membership, "employee_id, employer_id, staff_number, valid_from, valid_to, author_id, created_at",
        f"""SELECT e.id, {er0} + n % {EMPLOYERS}, e.staff_number, DATE '{MEMBERSHIP_EPOCH}',
               CASE WHEN n % 50 = 0 THEN DATE '{move_day}' END, CAST(NULL AS integer), now()
        FROM (SELECT e.*, substr(e.staff_number, 2)::int AS n FROM marketplace_employee e) e
        UNION ALL
        SELECT e.id, e.employer_id, e.staff_number, DATE '{move_day}', NULL, NULL, now()
        FROM marketplace_employee e WHERE substr(e.staff_number, 2)::int % 50 = 0""",
    )
    AllocationYear.objects.create(year=2025, opens_on=datetime.date(2025, 1, 1), closes_on=datetime.date(2025, 12, 31),
                                  dividend_rate=Decimal("0.0500"))
    return {"b0": b0, "h0": h0, "p0": Product.objects.order_by("id").first().pk, "sku0": sku0}


def reset_sales() -> None:
    sql("""TRUNCATE settlement_payout, settlement_dividendline, settlement_settlementline, settlement_settlementrun,
           marketplace_refundline, marketplace_refund, marketplace_orderlinebatch, marketplace_orderline, marketplace_order,
           households_incomeentry, households_incomemonth RESTART IDENTITY CASCADE""")


def seed_sales(units: int, ids: dict) -> None:
    """A year of sales by the three channels, as checkout, the counter and canteen deliveries
    write them: 16 in 20 orders online (an employee's, paid from the allocation), 3 at the counter
    (no employee, paid in cash), 1 a canteen delivery (no employee, paid by transfer); all
    completed. 1 % of lines get one unit refunded the next day — back to the allocation online,
    in cash at the counter; canteen deliveries take no returns."""
    from marketplace.models import Order, OrderLine, OrderLineBatch, Refund, RefundLine

    lines = units // UNITS_PER_LINE
    orders = lines // LINES_PER_ORDER
    e0 = scalar("SELECT MIN(id) FROM marketplace_employee")
    insert_select(
        Order,
        "number, channel, employee_id, status, fulfilment, year, total, allocation_amount, card_amount, offline_amount, created_at, paid_at",
        f"""SELECT 'B' || lpad(g::text, 9, '0'), ch, CASE WHEN ch = 'online' THEN {e0} + (g % {EMPLOYEES}) END, 'completed',
               'pickup', 2025, 0, 0, 0, 0, t, t
        FROM (SELECT g, timestamptz '2025-01-01 09:00+08' + ((g * 365.0 / {orders}) * interval '1 day') AS t,
                     CASE WHEN g % 20 < 16 THEN 'online' WHEN g % 20 < 19 THEN 'counter' ELSE 'canteen' END AS ch
              FROM generate_series(1, {orders}) g) s""",
    )
    prices = "ARRAY[" + ", ".join(PRICES) + "]::numeric[]"
    insert_select(
        OrderLine, "order_id, product_id, quantity, unit_price, line_total",
        f"""SELECT o.id, {ids['p0']} + ((o.id + k) % 4), {UNITS_PER_LINE}, ({prices})[1 + ((o.id + k) % 4)],
               {UNITS_PER_LINE} * ({prices})[1 + ((o.id + k) % 4)]
        FROM marketplace_order o CROSS JOIN generate_series(1, {LINES_PER_ORDER}) k ORDER BY o.id, k""",
    )
    insert_select(
        OrderLineBatch, "line_id, batch_id, units",
        # Earliest expiry first, as checkout takes units: each product's lines, in order, empty its
        # batches one after the other (a batch of 160 units is 40 lines).
        f"""SELECT l.id, {ids['b0']} + 4 * ((l.r * {UNITS_PER_LINE}) / {BATCH_UNITS}) + (l.product_id - {ids['p0']}), l.quantity
        FROM (SELECT id, product_id, quantity, ROW_NUMBER() OVER (PARTITION BY product_id ORDER BY id) - 1 AS r
              FROM marketplace_orderline) l""",
    )
    sql(
        """UPDATE marketplace_order o SET total = s.t,
               allocation_amount = CASE WHEN o.channel = 'online' THEN s.t ELSE 0 END,
               offline_amount = CASE WHEN o.channel = 'online' THEN 0 ELSE s.t END
        FROM (SELECT order_id, SUM(line_total) AS t FROM marketplace_orderline GROUP BY order_id) s WHERE s.order_id = o.id"""
    )
    insert_select(
        Refund, "order_id, allocation_amount, card_amount, offline_amount, provider_refund_id, reason, author_id, created_at",
        """SELECT l.order_id, CASE WHEN o.channel = 'online' THEN l.unit_price ELSE 0 END, 0,
               CASE WHEN o.channel = 'online' THEN 0 ELSE l.unit_price END, '', 'bench', NULL, o.paid_at + interval '1 day'
        FROM marketplace_orderline l JOIN marketplace_order o ON o.id = l.order_id
        WHERE l.id % 100 = 0 AND o.channel <> 'canteen'""",
    )
    insert_select(
        RefundLine, "refund_id, line_id, batch_id, units, amount",
        """SELECT r.id, l.id, olb.batch_id, 1, l.unit_price
        FROM marketplace_refund r JOIN marketplace_orderline l ON l.order_id = r.order_id AND l.id % 100 = 0
        JOIN marketplace_orderlinebatch olb ON olb.line_id = l.id""",
    )
    sql("ANALYZE")


def seed_intake_ledger() -> int:
    """A year of intake payments (收购款), as intake_record writes them (past the ledger's writers:
    the caller rebuilds the summary): eight a household, weekly through its produce's harvest
    (chestnut from September, walnut mid-August, tea April, fungi May), weight × the day's price,
    no sales channel."""
    from households.models import IncomeEntry

    codes = "ARRAY[" + ", ".join(f"'{c}'" for c, _n in PRODUCE) + "]"
    return insert_select(
        IncomeEntry,
        "household_id, kind, amount, date, produce, channel, source_type, source_code, source_detail, reason, author_id, created_at",
        f"""SELECT h.id, 'intake', round(w * p, 2), d, ({codes})[1 + i], '', 'lot', 'L-' || h.id || '-' || k,
               jsonb_build_object('point', 'CP-' || h.village_id, 'grade', 'grade1', 'weight_kg', w::text, 'unit_price', p::text),
               '', NULL, d + time '10:00'
        FROM (SELECT h.id, h.village_id, k, i,
                     (ARRAY[date '2025-09-01', date '2025-08-15', date '2025-04-01', date '2025-05-01'])[1 + i]
                         + CAST((k - 1) * 7 + h.id % 5 AS integer) AS d,
                     round((5 + (h.id * k) % 60)::numeric, 3) AS w, (ARRAY[12.0, 15.0, 40.0, 8.0])[1 + i]::numeric(10, 2) AS p
              FROM (SELECT h.*, (h.id - (SELECT MIN(id) FROM households_household)) % 4 AS i FROM households_household h) h
              CROSS JOIN generate_series(1, {INTAKES_PER_HOUSEHOLD}) k) h""",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000], help="sold units per run")
    parser.add_argument("--chunk", type=int, default=25_000, help="order lines per settlement chunk")
    parser.add_argument("--settle-only", action="store_true", help="stop after settling and reconciling")
    parser.add_argument("--profile", action="store_true", help="cProfile each run and time each kind of SQL statement")
    args = parser.parse_args()

    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    recreate_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    t = time.perf_counter()
    ids = seed_fixed()
    print(f"seeded {HOUSEHOLDS:,} households, {BATCHES:,} batches, {BATCHES * SHARES_PER_BATCH:,} shares "
          f"in {time.perf_counter() - t:.1f} s")

    from unittest import mock

    from marketplace.settlement.services import settlement_run
    from marketplace.settlement.tasks import money_flow_refresh_task

    results = []
    for units in args.sizes:
        reset_sales()
        t = time.perf_counter()
        seed_sales(units, ids)
        gen = time.perf_counter() - t
        profiler = statements = None
        if args.profile:
            import cProfile

            profiler, statements = cProfile.Profile(), StatementTimes()
            profiler.enable()
        # The money-flow refresh a completed run asks for is a task of its own (a worker runs it
        # after the run commits): timed on its own below, not inside the run as eager Celery would.
        refreshes: list[dict] = []
        t, py0 = time.perf_counter(), time.process_time()
        cpu0 = backend_cpu_seconds()
        with mock.patch.object(money_flow_refresh_task, "delay", lambda _r=refreshes, **kw: _r.append(kw)):
            if statements is not None:
                with connection.execute_wrapper(statements):
                    run = settlement_run(chunk_size=args.chunk)
            else:
                run = settlement_run(chunk_size=args.chunk)
        wall, py = time.perf_counter() - t, time.process_time() - py0
        cpu = backend_cpu_seconds() - cpu0
        t = time.perf_counter()
        for kw in refreshes:
            money_flow_refresh_task.apply(kwargs=kw)
        refresh = time.perf_counter() - t
        if profiler is not None:
            import pstats

            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(18)
            statements.report()
        results.append((units, wall, cpu + py))
        print(
            f"{units:>9,} units: generated in {gen:5.1f} s; settled in {wall:6.2f} s = {units / wall:,.0f} units/s "
            f"(CPU: PostgreSQL backend {cpu:.1f} s + Python {py:.1f} s = {units / (cpu + py):,.0f} units per CPU-second; "
            f"load {os.getloadavg()[0]:.1f}), {run.lines_written:,} settlement lines and as many income entries, "
            f"{run.chunks_done} chunks, sales {run.sales_amount:,}, refunds {run.refunds_amount:,}, dividends {run.dividend_amount:,}; "
            f"then the money-flow refresh task {refresh:.1f} s"
        )
    if len(results) > 1:
        base_units, base_wall, base_cpu = results[0]
        for units, wall, cpu in results[1:]:
            print(
                f"scaling {base_units:,} -> {units:,} units: x{units / base_units:.1f} units took x{wall / base_wall:.2f} time, "
                f"x{cpu / base_cpu:.2f} CPU"
            )
    # The checks ``manage.py reconcile`` runs on what settlement wrote: attributed = net sales per
    # day and per channel, dividends = rate × attributed, the published figures = the ledger, the
    # monthly summary = a GROUP BY over the ledger. (The stock checks are left out: the bench
    # writes no stock movements.)
    from core.reconcile import run_checks

    checks = [
        "settlement_attributed_equals_net_sales",
        "settlement_attributed_equals_net_sales_per_channel",
        "settlement_dividends_equal_rate_times_attributed",
        "published_figures_equal_ledger",
        "income_summary",
    ]
    t = time.perf_counter()
    found = run_checks(checks)
    problems = sum(len(v) for v in found.values())
    print(f"reconcile after settling: {problems} problems in {time.perf_counter() - t:.1f} s")
    for name, listed in found.items():
        print(f"  {name}: {'OK' if not listed else listed[:3]}")
    if problems:
        raise SystemExit("reconcile found problems")
    if args.settle_only:
        return

    n = seed_intake_ledger()
    from core.reconcile import rebuild

    # The intake entries were generated in SQL, past the ledger's writers: the summary is rebuilt
    # from the ledger (settlement's entries were already in it), as ``reconcile --rebuild`` does.
    t = time.perf_counter()
    rows = rebuild("income_summary")
    print(f"monthly income summary rebuilt: {rows:,} rows in {time.perf_counter() - t:.1f} s")
    # As autovacuum leaves the tables after a bulk append (its insert threshold is long passed):
    # statistics, and a visibility map for the index-only scans.
    sql("VACUUM ANALYZE households_incomeentry")
    sql("VACUUM ANALYZE households_incomemonth")
    total_entries = scalar("SELECT COUNT(*) FROM households_incomeentry")
    print(f"added {n:,} intake entries; ledger holds {total_entries:,} entries; load average {os.getloadavg()[0]:.1f}")
    summary_rows = scalar("SELECT COUNT(*) FROM households_incomemonth")
    print(f"the monthly summary holds {summary_rows:,} rows for the ledger's {total_entries:,}")
    report_cold(township=scalar("SELECT MIN(id) FROM households_township"))
    connection.close()


def report_cold(*, township: int) -> None:
    """The county income report over 2025 as the county office opens it (GET /income/ with the
    year's dates: totals, per township, village and class, top 100, by month, produce and
    channel, charts), cold: the app's cache and the selectors' in-process copies emptied and a new
    database connection, so nothing the app computed before is reused. PostgreSQL's own buffers
    stay warm (emptying them would need a server restart). Best of three, beside the baseline
    measured just before on a new connection each time: the four GROUP BYs over the ledger the
    page ran before the summary (per household and kind, by month, by produce, by channel) —
    their SQL alone, without the Python that grouped their rows."""
    import datetime

    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    from households.models import IncomeEntry
    from households.reports import selectors

    table = IncomeEntry._meta.db_table
    y0, y1 = datetime.date(2025, 1, 1), datetime.date(2025, 12, 31)
    per_household, params = selectors.per_household_ledger_sql(y0, y1, "")
    where = "date >= %s AND date <= %s"
    baseline = [
        (per_household, params),
        (f"SELECT date_trunc('month', date), kind, SUM(amount) FROM {table} WHERE {where} GROUP BY 1, 2", [y0, y1]),
        (f"SELECT produce, kind, SUM(amount) FROM {table} WHERE {where} GROUP BY 1, 2", [y0, y1]),
        (f"SELECT channel, SUM(amount) FROM {table} WHERE {where} AND kind = 'sales' GROUP BY 1", [y0, y1]),
    ]

    def ledger_group_bys() -> None:
        with connection.cursor() as cursor:
            for q, p in baseline:
                cursor.execute(q, p)
                cursor.fetchall()

    User = get_user_model()
    user = User.objects.filter(username="bench-county").first() or User.objects.create_superuser("bench-county", password="x")
    client = Client()
    client.force_login(user)
    year = {"date_from": "2025-01-01", "date_to": "2025-12-31"}

    def page(query: dict):
        def get() -> None:
            response = client.get("/income/", query)
            assert response.status_code == 200, response.status_code
        return get

    for label, fn in (
        ("baseline: the GROUP BYs over the ledger", ledger_group_bys),
        ("county income report page, the year", page(year)),
        ("the same page for one township and class", page({**year, "township": str(township), "labour_class": "weak"})),
    ):
        cold, cpu = [], []
        for _ in range(3):
            connection.close()
            cache.clear()
            selectors._LOCAL.clear()
            t, py0 = time.perf_counter(), time.process_time()
            fn()
            cold.append(time.perf_counter() - t)
            cpu.append(time.process_time() - py0)
        warm = min(_timed(fn) for _ in range(3))
        print(
            f"{label}, {HOUSEHOLDS:,} households: cold {min(cold) * 1000:.0f} ms (Python CPU {min(cpu) * 1000:.0f} ms), "
            f"warm {warm * 1000:.0f} ms; load {os.getloadavg()[0]:.1f}"
        )


class StatementTimes:
    """A connection.execute_wrapper summing the wall time of each kind of statement (its text up
    to the first parameter or literal number, whitespace collapsed): per-statement timing of a run."""

    def __init__(self):
        self.times: dict[str, list[float]] = {}

    def __call__(self, execute, statement, params, many, context):
        t = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            key = " ".join(statement.split())[:110]
            self.times.setdefault(key, []).append(time.perf_counter() - t)

    def report(self) -> None:
        print("  statement time (s)  calls  statement")
        for key, times in sorted(self.times.items(), key=lambda kv: -sum(kv[1]))[:14]:
            print(f"  {sum(times):17.2f}  {len(times):5d}  {key}")


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
