"""Checkout benchmark: allocation-only checkouts/s through gunicorn + PostgreSQL with concurrent
clients, p50/p95 latency, and — in the same run, before and after the checkout — this machine's
``pgbench -N -c 16`` TPS, printed as a ratio to their mean. Each phase also prints its CPU per
order: gunicorn's, PostgreSQL's, the clients' own and the whole machine's. Afterwards the books
are checked (zero invariant violations is part of the result).

    .venv/bin/python bench/checkout.py                      # 16 clients, 20 s per phase
    .venv/bin/python bench/checkout.py --clients 16 --seconds 30 --workers 2 --threads 8   # gthread workers

Phases (each client is a thread with one keep-alive ``http.client`` connection, token auth):
  checkout  carts are filled beforehand (one product, 1–2 units, through the ORM), each client
            takes the next employee and sends ``POST /api/v1/checkout/``: the checkout path alone;
  cycle     ``POST /api/v1/cart/items/`` then ``POST /api/v1/checkout/``, i.e. what a phone app
            does per order (the cart answer carries the checkout preview).
Stock is spread over ``--products`` products of three batches each (FIFO crosses batches).

Database ``relief_c1_bench`` (rebuilt each run from a migrated template ``relief_c1_bench_tpl_*``,
kept between runs); pgbench uses ``relief_c1_pgbench`` (dropped afterwards).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import random
import resource
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import serving  # noqa: E402  (after the path is set)

PY = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
DB = "relief_c1_bench"
PGBENCH_DB = "relief_c1_pgbench"
DB_URL = f"postgres://postgres@127.0.0.1:5432/{DB}"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")


def _server_env() -> dict:
    """Production settings as deployed: PostgreSQL, Redis as the cache (the storefront's catalogue
    version lives there; without Redis it is a file rewritten on every stock movement), no Stripe."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "STRIPE_SECRET_KEY")}
    env.update(
        REDIS_URL=REDIS_URL,
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="bench-only-secret-key-not-for-production-use-0123456789",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DATABASE_URL=DB_URL,
        LOG_LEVEL="ERROR",
    )
    return env


def recreate_database(name: str, template: str | None = None) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))


def migrated_database() -> None:
    """A freshly migrated bench database: copied from a migrated template kept between runs (the
    template is rebuilt whenever the set of migration files changes)."""
    import hashlib

    import psycopg

    files = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("**/migrations/0*.py") if ".venv" not in p.parts)
    digest = hashlib.sha1("\n".join(files).encode()).hexdigest()[:16]
    template = f"{DB}_tpl_{digest}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        have = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [f"{DB}_tpl_%"]).fetchall()
        for (name,) in have:
            if name != template:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    if (template,) not in have:
        recreate_database(template)
        env = {**_server_env(), "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{template}"}
        subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    recreate_database(DB, template=template)


def setup_django() -> None:
    os.environ["DATABASE_URL"] = DB_URL
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("STRIPE_SECRET_KEY", None)
    import django

    django.setup()


def seed(*, products: int, units_per_product: int, employees: int) -> dict:
    """Stock, products, employees with tokens and this year's allocation; returns initial stock."""
    import datetime
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from logistics.models import Facility, Grade, PackedBatch, PackingRun, Produce, Sku
    from logistics.services.stock import batch_stock_receive
    from marketplace.models import AllocationEntry, Employee, Employer, Product
    from marketplace.services.allocation import allocation_year_current

    User = get_user_model()
    sm = Facility.objects.create(kind=Facility.Kind.SUPERMARKET, code="SM-BENCH", name="镇安县扶贫超市")
    station = Facility.objects.create(kind=Facility.Kind.SORTING_STATION, code="ST-BENCH", name="永乐分拣站", ships_to=sm)
    packer = User.objects.create(username="bench-packer")
    produce = Produce.objects.create(code="chestnut", name="板栗", category=Produce.Category.CHESTNUT)
    grade = Grade.objects.create(produce=produce, code="grade1", name="一级", rank=1)
    now = timezone.now()
    with transaction.atomic():
        for p in range(products):
            sku = Sku.objects.create(code=f"BENCH-{p}", name=f"镇安板栗 礼盒 {p}", produce=produce, grade=grade, unit_weight_kg=Decimal("0.500"))
            Product.objects.create(sku=sku, name=sku.name, price=Decimal("5.00") + p)
            for b in range(3):
                packed = now - datetime.timedelta(days=30 - b)
                run = PackingRun.objects.create(code=f"PR-B-{p}-{b}", station=station, sku=sku, created_by=packer, created_at=packed)
                batch = PackedBatch.objects.create(
                    code=f"B-BENCH-{p}-{b}", sku=sku, station=station, packing_run=run, units=units_per_product // 3,
                    unit_weight_kg=sku.unit_weight_kg, best_before=(packed + datetime.timedelta(days=365)).date(), packed_at=packed,
                    inspection_status=PackedBatch.Inspection.PASSED,
                )
                batch_stock_receive(batch=batch, facility_id=sm.pk, units=batch.units, reference_type="bench", reference_code=batch.code)
    employer = Employer.objects.create(code="BENCH", name="镇安县财政局")
    users = [User(username=f"bench{n:05d}") for n in range(employees)]
    for u in users:
        u.set_unusable_password()
    User.objects.bulk_create(users, batch_size=1000)
    users = list(User.objects.filter(username__startswith="bench0").order_by("username"))
    Employee.objects.bulk_create(
        [Employee(user=u, employer=employer, staff_number=f"{n:05d}", name=f"职工{n}") for n, u in enumerate(users)], batch_size=1000
    )
    Token.objects.bulk_create([Token(user=u, key=Token.generate_key()) for u in users], batch_size=1000)
    # The grant, written as allocation_grant writes it (one entry per employee, same key), in bulk:
    # thousands of per-employee transactions would dominate the set-up time.
    setting = allocation_year_current()
    AllocationEntry.objects.bulk_create(
        [
            AllocationEntry(employee=e, year=setting.year, kind="grant", amount=setting.amount, balance_after=setting.amount,
                            idempotency_key=f"grant:{setting.year}:{e.pk}")
            for e in Employee.objects.filter(employer=employer)
        ],
        batch_size=1000,
    )
    return {"units": units_per_product // 3 * 3 * products}


def fill_carts(tokens_employees: list[tuple[str, int]], product_ids: list[int]) -> None:
    from marketplace.models import Cart, CartItem

    rng = random.Random(5)
    carts = Cart.objects.bulk_create([Cart(employee_id=e) for _t, e in tokens_employees], batch_size=1000)
    CartItem.objects.bulk_create([CartItem(cart=c, product_id=rng.choice(product_ids), quantity=rng.choice((1, 2))) for c in carts], batch_size=1000)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_flags(workers: int, threads: int) -> list[str]:
    """The server's flags (without the address), shared with bench/oscar.py so that its baseline
    is served alike."""
    flags = ["-w", str(workers), "--log-level", "error"]
    if threads > 1:
        flags += ["-k", "gthread", "--threads", str(threads)]
    return flags


def collect_static() -> None:
    """Production settings serve hashed static names from a manifest: without it any HTML page (the
    login page the readiness probe asks for) is an error. A clean clone has none until this runs."""
    subprocess.run([PY, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=_server_env(), check=True)


def start_server(port: int, workers: int, threads: int) -> subprocess.Popen:
    collect_static()
    cmd = [GUNICORN, "config.wsgi", "-b", f"127.0.0.1:{port}", *gunicorn_flags(workers, threads)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=_server_env())

    def answers() -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/accounts/login/")  # a page anybody may see: nothing logged while it starts
        return conn.getresponse().status < 500

    if serving.wait_until_serving(proc, answers, 60):
        return proc
    proc.kill()
    raise RuntimeError("gunicorn did not come up")


def _processes_cpu_seconds(counts) -> float:
    """User + system CPU seconds of the processes for which ``counts(pid, parent pid, name)`` is true."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, rest = text.split("(", 1)[1].rsplit(")", 1)
        fields = rest.split()
        if counts(int(stat.parent.name), int(fields[1]), name):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _cpu_seconds(root_pid: int) -> float:
    """User + system CPU seconds of ``root_pid`` and its children (the gunicorn workers)."""
    return _processes_cpu_seconds(lambda pid, ppid, _name: root_pid in (pid, ppid))


def _postgres_cpu_seconds() -> float:
    """User + system CPU seconds of every PostgreSQL process on this machine (the server the
    benchmark runs against is local): the database's share of an order."""
    return _processes_cpu_seconds(lambda _pid, _ppid, name: name == "postgres")


def own_cpu_seconds() -> float:
    """User + system CPU seconds of this process so far (every thread: the benchmark's clients)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _machine_cpu() -> float:
    """Busy CPU seconds of the whole machine so far (every process: the clients, gunicorn,
    PostgreSQL, Redis), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def _post(conn: http.client.HTTPConnection, path: str, token: str, body: dict) -> tuple[int, dict]:
    conn.request("POST", path, body=json.dumps(body), headers={"Authorization": f"Token {token}", "Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    try:
        payload = json.loads(data or b"{}")
    except ValueError:
        payload = {"raw": data[:200].decode(errors="replace")}
    return response.status, payload


def run_phase(*, port: int, clients: int, seconds: float, work: queue.Queue, cycle: bool, product_ids: list[int]) -> dict:
    latencies: list[float] = []
    cycle_latencies: list[float] = []
    statuses: Counter = Counter()
    errors: list[str] = []
    lock = threading.Lock()

    def client(n: int, running) -> None:
        rng = random.Random(n)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while running():
            try:
                token = work.get_nowait()
            except queue.Empty:
                return
            try:
                t0 = time.perf_counter()
                if cycle:
                    s, _body = _post(conn, "/api/v1/cart/items/", token, {"product": rng.choice(product_ids), "quantity": rng.choice((1, 2))})
                    if s != 200:
                        with lock:
                            statuses[f"cart {s}"] += 1
                        continue
                t1 = time.perf_counter()
                s, body = _post(conn, "/api/v1/checkout/", token, {})
                t2 = time.perf_counter()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                with lock:
                    statuses["connection error"] += 1
                    errors.append(repr(exc))
                continue
            with lock:
                statuses[s] += 1
                if s == 201:
                    latencies.append(t2 - t1)
                    cycle_latencies.append(t2 - t0)
                elif len(errors) < 5:
                    errors.append(f"{s}: {body}")
        conn.close()

    own_before = resource.getrusage(resource.RUSAGE_SELF)
    elapsed = serving.run_clients(client, clients, seconds)
    own_after = resource.getrusage(resource.RUSAGE_SELF)
    own_cpu = own_after.ru_utime - own_before.ru_utime + own_after.ru_stime - own_before.ru_stime
    return {"client_cpu": own_cpu, "elapsed": elapsed, "ok": len(latencies), "statuses": dict(statuses), "latencies": latencies, "cycle": cycle_latencies, "errors": errors}


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] * 1000


PGBENCH_BASE = ["-h", "127.0.0.1", "-U", "postgres"]


def pgbench_ready() -> None:
    """pgbench's own database at scale 10, made anew."""
    recreate_database(PGBENCH_DB)
    subprocess.run(["pgbench", *PGBENCH_BASE, "-i", "-q", "-s", "10", PGBENCH_DB], check=True, capture_output=True)


def pgbench(clients: int, seconds: int) -> float:
    """TPS of ``pgbench -N`` (each transaction: three updates, an insert, a select) with as many
    clients as the checkout's, on the database of ``pgbench_ready``."""
    out = subprocess.run(
        ["pgbench", *PGBENCH_BASE, "-N", "-c", str(clients), "-j", "2", "-T", str(seconds), PGBENCH_DB],
        check=True, capture_output=True, text=True,
    ).stdout
    for line in out.splitlines():
        if line.startswith("tps ="):
            return float(line.split()[2])
    raise RuntimeError(out)


def pgbench_drop() -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PGBENCH_DB} WITH (FORCE)")


def invariants(initial_units: int) -> list[str]:
    """Zero is the goal: stock, orders and the allocation ledger all agree."""
    from django.db.models import F, Sum

    from logistics.models import BatchStock
    from logistics.reconcile import run_checks
    from marketplace.models import AllocationEntry, Order, OrderLineBatch

    problems: list[str] = []
    for name, found in run_checks(["batch_stock_counters", "allocation_ledger", "order_allocation_spend", "reserved_units_pending_orders"]).items():
        problems += [f"{name}: {p}" for p in found]
    stock = BatchStock.objects.aggregate(q=Sum("quantity"), r=Sum("reserved"))
    sold = OrderLineBatch.objects.filter(line__order__status=Order.Status.PAID).aggregate(u=Sum("units"))["u"] or 0
    if sold + stock["q"] != initial_units:
        problems.append(f"stock: sold {sold} + on hand {stock['q']} != packed {initial_units}")
    if stock["r"] != 0:
        problems.append(f"stock: {stock['r']} units still reserved after allocation-only checkouts")
    if BatchStock.objects.filter(quantity__lt=F("reserved")).exists() or BatchStock.objects.filter(quantity__lt=0).exists():
        problems.append("stock: a negative counter")
    spent = -(AllocationEntry.objects.filter(kind="spend").aggregate(s=Sum("amount"))["s"] or 0)
    paid = Order.objects.aggregate(s=Sum("allocation_amount"))["s"] or 0
    if spent != paid:
        problems.append(f"allocation: spend entries {spent} != orders' allocation parts {paid}")
    if AllocationEntry.objects.filter(balance_after__lt=0).exists():
        problems.append("allocation: a negative balance")
    total = Order.objects.aggregate(s=Sum("total"))["s"] or 0
    if total != paid:
        problems.append(f"orders: totals {total} != allocation parts {paid} (allocation-only run)")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gthread); 1 = sync workers")
    parser.add_argument("--products", type=int, default=8)
    parser.add_argument("--employees", type=int, default=6000, help="employees with a cart filled for the checkout phase")
    parser.add_argument("--skip-cycle", action="store_true")
    parser.add_argument("--skip-pgbench", action="store_true")
    parser.add_argument("--database", default="relief_c1_bench", help="bench database (each engineer's own; its template is kept)")
    args = parser.parse_args()
    global DB, DB_URL, PGBENCH_DB
    if args.database != "relief_c1_bench":
        DB, DB_URL, PGBENCH_DB = args.database, f"postgres://postgres@127.0.0.1:5432/{args.database}", f"{args.database}_pgbench"

    t0 = time.perf_counter()
    load_before = os.getloadavg()[0]
    migrated_database()
    setup_django()
    from django.db import connection

    from marketplace.models import Employee, Product

    cycle_employees = 0 if args.skip_cycle else args.clients * 40
    initial = seed(products=args.products, units_per_product=3 * 10_000, employees=args.employees + cycle_employees)
    product_ids = list(Product.objects.values_list("pk", flat=True))
    rows = list(Employee.objects.order_by("pk").values_list("user__auth_token__key", "pk"))
    checkout_rows, cycle_rows = rows[: args.employees], rows[args.employees :]
    fill_carts(checkout_rows, product_ids)
    connection.close()
    print(f"set-up: {len(rows)} employees, {len(product_ids)} products, {initial['units']} units ({time.perf_counter() - t0:.1f} s)")

    # the baseline runs before and after the checkout's phases, its ratio taken to the mean of the
    # two: this machine's speed drifts within minutes (other machines share its host)
    tps_runs = []
    if not args.skip_pgbench:
        pgbench_ready()
        tps_runs.append(pgbench(args.clients, int(args.seconds)))
    port = free_port()
    server = start_server(port, args.workers, args.threads)
    try:
        work: queue.Queue = queue.Queue()
        for token, _e in checkout_rows:
            work.put(token)
        cpu_before, pg_before, machine_before = _cpu_seconds(server.pid), _postgres_cpu_seconds(), _machine_cpu()
        checkout = run_phase(port=port, clients=args.clients, seconds=args.seconds, work=work, cycle=False, product_ids=product_ids)
        checkout["server_cpu"] = _cpu_seconds(server.pid) - cpu_before
        checkout["postgres_cpu"] = _postgres_cpu_seconds() - pg_before
        checkout["machine_cpu"] = _machine_cpu() - machine_before
        cycle = None
        if cycle_rows:
            work = queue.Queue()
            # each cycle employee buys ~10 times: 700 yuan at 5–12 yuan a unit, 1–2 units an order
            for _round in range(40):
                for token, _e in cycle_rows:
                    work.put(token)
            cpu_before, pg_before, machine_before = _cpu_seconds(server.pid), _postgres_cpu_seconds(), _machine_cpu()
            cycle = run_phase(port=port, clients=args.clients, seconds=args.seconds, work=work, cycle=True, product_ids=product_ids)
            cycle["server_cpu"] = _cpu_seconds(server.pid) - cpu_before
            cycle["postgres_cpu"] = _postgres_cpu_seconds() - pg_before
            cycle["machine_cpu"] = _machine_cpu() - machine_before
    finally:
        server.terminate()
        server.wait(timeout=30)

    if not args.skip_pgbench:
        tps_runs.append(pgbench(args.clients, int(args.seconds)))
        pgbench_drop()
    tps = sum(tps_runs) / len(tps_runs) if tps_runs else None
    problems = invariants(initial["units"])

    server_desc = f"gunicorn {args.workers} workers" + (f" x {args.threads} threads (gthread)" if args.threads > 1 else " (sync)")
    print(f"\nload average before the run: {load_before:.1f} (other work on this machine shares the 2 CPUs)")
    print(f"\ncheckout benchmark — {args.clients} clients, {server_desc}, PostgreSQL, {os.cpu_count()} CPUs")
    for label, phase, key in (("checkout (cart filled beforehand)", checkout, "latencies"), ("cart add + checkout", cycle, "cycle")):
        if phase is None:
            continue
        rate = phase["ok"] / phase["elapsed"]
        print(
            f"  {label:34s} {rate:7.1f} checkouts/s   p50 {pct(phase[key], 50):6.1f} ms   p95 {pct(phase[key], 95):6.1f} ms"
            f"   ({phase['ok']} orders in {phase['elapsed']:.1f} s; responses {phase['statuses']})"
        )
        if phase["ok"]:
            print(f"    gunicorn CPU per order: {phase['server_cpu'] / phase['ok'] * 1000:.1f} ms (all workers; load average now {os.getloadavg()[0]:.1f})")
            per_order = {k: phase[k] / phase["ok"] * 1000 for k in ("client_cpu", "postgres_cpu")}
            print(
                f"    PostgreSQL CPU per order: {per_order['postgres_cpu']:.1f} ms; the clients' (this benchmark): {per_order['client_cpu']:.1f} ms;"
                f" the whole machine's: {phase['machine_cpu'] / phase['ok'] * 1000:.1f} ms"
            )
        for e in phase["errors"][:3]:
            print(f"    e.g. {e}")
        if tps:
            print(f"  {'':34s} ratio to pgbench: {rate / tps:.3f}")
    if tps:
        print(
            f"  pgbench -N -c {args.clients} -j 2 -T {int(args.seconds)} (scale 10): {tps:.1f} TPS"
            f" (the mean of {tps_runs[0]:.1f} before the checkout and {tps_runs[1]:.1f} after it)"
        )
    print(f"  invariant violations: {len(problems)}")
    for p in problems[:20]:
        print(f"    {p}")
    five_hundreds = sum(v for k, v in checkout["statuses"].items() if isinstance(k, int) and k >= 500)
    if cycle:
        five_hundreds += sum(v for k, v in cycle["statuses"].items() if isinstance(k, int) and k >= 500)
    print(f"  5xx responses: {five_hundreds}")


if __name__ == "__main__":
    main()
