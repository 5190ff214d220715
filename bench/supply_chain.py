"""Supply-chain benchmark: a harvest season of intakes over households through the service
layer (``intake_record``), shipped to the stations (with some loss in transit), packed into
batches, inspected and shipped on to the supermarket; then p50/p99 of backward trace (batch
code) and forward trace (lot code, household number), and the time of ``reconcile``. In the
same run, a baseline: the same number of Lot + Intake rows written by bare ``bulk_create``
(rolled back), and the service's rate as a ratio of it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relief_b2_bench .venv/bin/python bench/supply_chain.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relief_b2_bench .venv/bin/python bench/supply_chain.py --intakes 20000
    # the same per-household and per-batch sizes as the full season, a tenth of the rows:
    .venv/bin/python bench/supply_chain.py --intakes 20000 --households 200

Trace is timed as staff read it — the county office's scope (logistics/access.py), the first page
of events (50) and the summary, serialised to JSON — beside a baseline through the same stack: one
lot's row by its code from the same scoped queryset, serialised; each trace kind prints its p50 as
a multiple of that baseline, and its CPU per trace (this process, and the PostgreSQL backend from
/proc), which a loaded machine distorts less than wall time. The issue's goal at 200,000 intakes:
p50 <= 20 ms and p99 <= 50 ms for each kind. Intake also prints its CPU cost (this process + the
PostgreSQL backend) per intake.
    .venv/bin/python bench/supply_chain.py --reuse            # measure trace and reconcile on the data already there

Build once, then iterate with ``--reuse``: the build goes week by week through the services and
took about 8 minutes a week at 200,000 intakes on a shared 2-CPU machine (load 5); a build stopped
between weeks leaves whole weeks shipped and packed, which ``--reuse`` measures as they are.

The PostgreSQL database is dropped and created afresh (unless ``--reuse``), then migrated.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/relief_b2_bench"


def _prepare_database(url: str, fresh: bool) -> None:
    if not url.startswith("postgres"):
        if fresh and url.startswith("sqlite:///"):
            for suffix in ("", "-wal", "-shm"):
                Path(url[len("sqlite:///"):] + suffix).unlink(missing_ok=True)
        return
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--intakes", type=int, default=200_000)
    parser.add_argument("--households", type=int, default=2_000)
    parser.add_argument("--samples", type=int, default=300, help="traces timed per kind")
    parser.add_argument("--weeks", type=int, default=12, help="length of the season; points ship weekly")
    parser.add_argument("--reuse", action="store_true", help="keep the database and its data; only measure trace and reconcile")
    args = parser.parse_args()

    url = os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["DJANGO_DEBUG"] = "0"  # no query log growing with every statement
    os.environ.pop("REDIS_URL", None)
    _prepare_database(url, fresh=not args.reuse)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")

    from django.contrib.auth import get_user_model

    from core import roles
    from households.models import Household
    from logistics.access import lots_visible_to, trace_for_user
    from logistics.models import Intake, Lot, LotMovement, PackedBatch
    from logistics.reconcile import run_checks

    if not args.reuse:
        _build(args)
    if connection.vendor == "postgresql":
        # Statistics as autovacuum keeps them on a running server (it is off on some machines, and
        # a table just filled has none): without them PostgreSQL plans the trace for empty tables.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

    # --- trace ---------------------------------------------------------------------------------
    rng = random.Random(7)
    batch_codes = list(PackedBatch.objects.values_list("code", flat=True))
    lot_codes = list(Lot.objects.filter(packing_inputs__isnull=False).values_list("code", flat=True)[:50_000])
    numbers = list(Household.objects.filter(lots__isnull=False).distinct().values_list("number", flat=True))
    print(f"books: {Intake.objects.count():,} intakes, {LotMovement.objects.count():,} lot movements, "
          f"{len(batch_codes):,} batches")

    county = get_user_model().objects.filter(groups__name=roles.COUNTY_OFFICE).first()

    def timed(codes: list[str]) -> tuple[list[float], list[float], float, int]:
        """Wall ms and client CPU ms per trace; PostgreSQL CPU per trace (the backend's /proc ticks, over the run)."""
        times, cpu, rows = [], [], 0
        backend_started = _backend_cpu_seconds()
        for code in codes:
            started, started_cpu = time.perf_counter(), time.process_time()
            t = trace_for_user(county, code, limit=50)
            body = json.dumps(t.as_dict(), ensure_ascii=False, default=str)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            rows += t.events_total
            assert body
        backend = (_backend_cpu_seconds() - backend_started) * 1000 / max(len(codes), 1)
        return times, cpu, backend, rows

    def baseline(codes: list[str]) -> list[float]:
        times = []
        for code in codes:
            started = time.perf_counter()
            row = lots_visible_to(county).filter(code=code).values("id", "code", "weight_kg", "created_at").first()
            json.dumps(row, ensure_ascii=False, default=str)
            times.append((time.perf_counter() - started) * 1000)
        return times

    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    base_p50 = None
    if lot_codes:
        sample = [rng.choice(lot_codes) for _ in range(args.samples)]
        baseline(sample[:20])
        base = baseline(sample)
        base_p50 = statistics.median(base)
        print(f"baseline: one lot row by its code, scoped, as JSON   p50 {base_p50:7.2f} ms   p99 {_pct(base, 99):7.2f} ms")

    for label, pool in (("backward (batch code)", batch_codes), ("forward (lot code)", lot_codes), ("forward (household)", numbers)):
        if not pool:
            continue
        sample = [rng.choice(pool) for _ in range(args.samples)]
        timed(sample[:20])  # warm the connection and caches
        times, cpu, backend, rows = timed(sample)
        print(f"trace {label:<24} p50 {statistics.median(times):7.2f} ms   p99 {_pct(times, 99):7.2f} ms   "
              f"(CPU per trace: client p50 {statistics.median(cpu):.2f} ms, p99 {_pct(cpu, 99):.2f} ms, PostgreSQL mean {backend:.2f} ms; "
              f"{len(times)} traces, {rows / len(times):.0f} events each, first 50 built; load {os.getloadavg()[0]:.1f})"
              + (f" — p50 {statistics.median(times) / base_p50:.1f}× the one-row baseline" if base_p50 else ""))

    # --- reconcile -----------------------------------------------------------------------------
    started = time.perf_counter()
    problems = run_checks()
    took = time.perf_counter() - started
    bad = {k: len(v) for k, v in problems.items() if v}
    print(f"reconcile: {took:.2f} s over every check — {'all balance' if not bad else bad}")


def _build(args) -> None:
    """Registry, facilities, a season of intakes through the service, shipments, packing, inspection."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.db.models import Sum
    from django.utils import timezone

    from core import roles
    from households import demo as households_demo
    from households.models import Household
    from logistics import demo as logistics_demo
    from logistics.models import Facility, Grade, Intake, Lot, LotMovement, Sku, StaffAssignment
    from logistics.services.batches import batch_inspect
    from logistics.services.intake import intake_record
    from logistics.services.packing import packing_run_complete
    from logistics.services.shipments import shipment_dispatch, shipment_receive

    ctx = households_demo.seed(households=args.households, stdout=None, context={})
    county = ctx["users"]["county"]
    sm, stations, points = logistics_demo.seed_facilities()
    logistics_demo.seed_produce(county)
    skus = {}
    for grade in Grade.objects.select_related("produce"):
        skus[grade.pk], _ = Sku.objects.get_or_create(
            code=f"BENCH-{grade.produce.code}-{grade.code}",
            defaults={"name": f"{grade.produce.name}{grade.name} 1 kg", "produce": grade.produce, "grade": grade,
                      "unit_weight_kg": Decimal("1.000")},
        )
    User = get_user_model()
    point_group, station_group = Group.objects.get(name=roles.COLLECTION_POINT_STAFF), Group.objects.get(name=roles.SORTING_STATION_STAFF)
    staff = {}
    for facility in list(points.values()) + list(stations.values()):
        user, _ = User.objects.get_or_create(username=f"bench-{facility.code}")
        user.groups.add(point_group if facility.kind == Facility.Kind.COLLECTION_POINT else station_group)
        StaffAssignment.objects.update_or_create(user=user, defaults={"facility": facility})
        staff[facility.pk] = User.objects.get(pk=user.pk)
    households = list(Household.objects.values_list("number", "village_id"))
    grades = list(Grade.objects.select_related("produce").values_list("produce__code", "code"))
    rng = random.Random(2026)
    tz = timezone.get_current_timezone()
    season_start = datetime.datetime(2025, 9, 1, 8, tzinfo=tz)

    per_week = args.intakes // args.weeks
    intake_seconds = 0.0
    intake_cpu = 0.0
    backend_cpu = 0.0
    done = 0
    for week in range(args.weeks):
        n = per_week if week < args.weeks - 1 else args.intakes - done
        week_start = season_start + datetime.timedelta(days=7 * week)
        started, started_cpu, started_backend = time.perf_counter(), time.process_time(), _backend_cpu_seconds()
        for i in range(n):
            number, village_id = households[(done + i) % len(households)]
            produce, grade = grades[rng.randrange(len(grades))]
            point = points[village_id]
            at = week_start + datetime.timedelta(seconds=int((i / max(n, 1)) * 6 * 86400))
            intake_record(staff=staff[point.pk], client_id=uuid.uuid4(), household_number=number, produce_code=produce, grade_code=grade,
                          weight_kg=Decimal(rng.randrange(20, 600)) / 10, at=at)
        intake_seconds += time.perf_counter() - started
        intake_cpu += time.process_time() - started_cpu
        backend_cpu += _backend_cpu_seconds() - started_backend
        done += n
        print(f"  week {week + 1}: {done:,} intakes, {done / intake_seconds:,.0f} intakes/s so far", flush=True)

        # Points ship their week's lots on the 7th day; one shipment in 20 arrives a little short.
        ship_at = week_start + datetime.timedelta(days=6, hours=6)
        for point in points.values():
            on_hand = {r["lot_id"]: r["q"] for r in LotMovement.objects.filter(facility=point).values("lot_id")
                       .annotate(q=Sum("quantity_kg")).filter(q__gt=0)}
            if not on_hand:
                continue
            lots = Lot.objects.in_bulk(list(on_hand))
            s = shipment_dispatch(origin=point, lines=[(lots[i], q) for i, q in on_hand.items()], author=staff[point.pk], at=ship_at)
            received, reasons = {}, {}
            if rng.random() < 0.05:
                line = s.lines.order_by("pk").first()
                received[line.pk], reasons[line.pk] = line.dispatched - min(Decimal("0.2"), line.dispatched / 2), "bench loss"
            shipment_receive(shipment=s, received=received, loss_reasons=reasons, author=staff[point.ships_to_id],
                             at=ship_at + datetime.timedelta(hours=5))
        # Stations pack everything on hand, up to 100 lots per run, ~1 % waste.
        pack_at = ship_at + datetime.timedelta(hours=20)
        week_batches = []
        for station in stations.values():
            rows = list(LotMovement.objects.filter(facility=station).values("lot_id", "lot__grade_id")
                        .annotate(q=Sum("quantity_kg")).filter(q__gt=0).order_by("lot_id"))
            by_grade = defaultdict(list)
            for r in rows:
                by_grade[r["lot__grade_id"]].append(r)
            for grade_id, group in by_grade.items():
                for k in range(0, len(group), 100):
                    chunk = group[k:k + 100]
                    lots = Lot.objects.in_bulk([r["lot_id"] for r in chunk])
                    total = sum(r["q"] for r in chunk)
                    units = int(total * Decimal("0.99"))
                    if units < 1:
                        continue
                    week_batches.append(packing_run_complete(
                        station=station, sku=skus[grade_id], inputs=[(lots[r["lot_id"]], r["q"]) for r in chunk], units=units,
                        waste_kg=total - units, author=staff[station.pk], at=pack_at))
        for b in week_batches:
            batch_inspect(batch=b, passed=True, inspector=county, at=pack_at + datetime.timedelta(hours=3))
        by_station = defaultdict(list)
        for b in week_batches:
            by_station[b.station_id].append(b)
        for station_id, batches in by_station.items():
            s = shipment_dispatch(origin=stations_by_pk(stations)[station_id], lines=[(b, b.units) for b in batches],
                                  author=staff[station_id], at=pack_at + datetime.timedelta(hours=6))
            shipment_receive(shipment=s, received={}, author=county, at=pack_at + datetime.timedelta(hours=12))

    print(f"intake through the service: {args.intakes:,} in {intake_seconds:.1f} s = {args.intakes / intake_seconds:,.0f} intakes/s "
          f"(load {os.getloadavg()[0]:.1f}); CPU per intake {intake_cpu / args.intakes * 1000:.2f} ms Python + "
          f"{backend_cpu / args.intakes * 1000:.2f} ms PostgreSQL = {args.intakes / (intake_cpu + backend_cpu):,.0f} intakes per CPU-second")

    # Baseline: the same number of Lot + Intake rows by bare bulk_create, rolled back.
    point = next(iter(points.values()))
    hh = Household.objects.filter(village_id=point.village_id).first()
    grade = Grade.objects.first()
    user = staff[point.pk]
    now = timezone.now()
    started = time.perf_counter()
    with transaction.atomic():
        lots = Lot.objects.bulk_create(
            [Lot(code=f"BASE-{i}", grade=grade, household=hh, origin=point, weight_kg=Decimal("10.000"), created_at=now)
             for i in range(args.intakes)], batch_size=5000)
        Intake.objects.bulk_create(
            [Intake(lot=lot, household=hh, collection_point=point, grade=grade, weight_kg=Decimal("10.000"), unit_price=Decimal("12.00"),
                    amount=Decimal("120.00"), staff=user, created_at=now) for lot in lots], batch_size=5000)
        base = time.perf_counter() - started
        transaction.set_rollback(True)
    print(f"baseline bulk_create of {args.intakes:,} Lot + Intake rows: {base:.1f} s = {args.intakes / base:,.0f} rows/s; "
          f"the service runs at {base / intake_seconds:.1%} of it ({intake_seconds / base:.0f}× slower: one transaction, price lookup, "
          f"lot code, stock movement and income entry per intake)")


def _backend_cpu_seconds() -> float:
    """CPU the PostgreSQL backend of this connection has used (user + system), from /proc."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stations_by_pk(stations: dict) -> dict:
    return {s.pk: s for s in stations.values()}


if __name__ == "__main__":
    main()
