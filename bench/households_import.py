"""Benchmark: import 25,000 households from .xlsx: the service, the command and the admin's background import.

Runs on the configured database engine (DATABASE_URL; SQLite by default) but in a throwaway test
database (``test_<name>``, created and migrated here, dropped at the end unless --keepdb), so the
figures never touch real data. Prints rows, wall time and rows/s for:

- openpyxl alone reading the file (the baseline: the floor no import can beat),
- the first import (every row creates a household),
- the same file again (every row unchanged),
- a file where every row changed (every row updates a household),
- a file with one bad row at the end (everything checked, nothing written),
- ``manage.py import_households`` on a file where every row changed again (the command path),
- the admin's background import of the same-size file (core.services: the upload kept in private
  storage, the Celery task run in-process as the embedded default does, progress recorded),

and each import's ratio to the baseline.

    .venv/bin/python bench/households_import.py [--rows 25000] [--keepdb]
    .venv/bin/python bench/households_import.py --rows 50000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relief_a .venv/bin/python bench/households_import.py
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")


def _write_sheet(path: Path, villages, rows: int, *, members_shift: int = 0, bad_last_row: bool = False) -> None:
    import random

    from openpyxl import Workbook

    from households.excel import COLUMNS
    from households.validators import id_check_digit

    rng = random.Random(25000)
    # A normal (not write-only) workbook, because that is what Excel and WPS save: a shared-strings
    # table and the sheet's dimension up front. openpyxl's write-only mode writes inline strings
    # and no dimension, which makes any reader (openpyxl included) parse the sheet twice.
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "households"
    sheet.append([header for _key, header in COLUMNS])
    classes = [("有劳动能力", "放心户"), ("有劳动能力", "缺项户"), ("弱劳动能力", "可脱户"), ("弱劳动能力", "沉底户"),
               ("无劳动能力", "特困供养户"), ("无劳动能力", "兜底低保户")]  # fmt: skip
    for n in range(rows):
        village = villages[n % len(villages)]
        born = datetime.date(1940, 1, 1) + datetime.timedelta(days=n // 1000)  # unique: one ID number per household
        first17 = f"611025{born:%Y%m%d}{n % 1000:03d}"
        labour, sub = classes[n % len(classes)]
        lifted = n % 10 != 0
        sheet.append(
            [
                f"B{n:09d}",
                "王" + "建国华明军平伟芳"[n % 8],
                first17 + id_check_digit(first17),
                f"139{n:08d}" if not (bad_last_row and n == rows - 1) else "1234",
                1 + (n + members_shift) % 6,
                village.township.name,
                village.name,
                labour,
                sub,
                "已脱贫" if lifted else "未脱贫",
                2014 + n % 7 if lifted else None,
                *["是" if rng.random() < 0.05 else "否" for _ in range(5)],
                "镇安县农村信用合作联社",
                f"6217{n:015d}",
            ]
        )
    workbook.save(path)


def _openpyxl_only(path: Path) -> tuple[float, float]:
    from openpyxl import load_workbook

    started, cpu = time.perf_counter(), time.process_time()
    workbook = load_workbook(path, read_only=True, data_only=True)
    count = sum(1 for _row in workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    assert count > 1
    return time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=25_000)
    parser.add_argument("--keepdb", action="store_true", help="keep (and reuse) the benchmark database")
    parser.add_argument("--entry-points-only", action="store_true",
                        help="only create the households, then time the command and the admin's background import")
    args = parser.parse_args()

    import django

    # The background import keeps its upload in private storage: a scratch folder here.
    os.environ.setdefault("PRIVATE_MEDIA_ROOT", tempfile.mkdtemp(prefix="relief-bench-private-"))
    django.setup()
    from django.db import connection

    from households.demo import seed_townships_and_villages
    from households.models import Household
    from households.services_import import households_import_xlsx

    engine = connection.vendor
    print(f"database: {engine} ({connection.settings_dict['NAME']} -> test database)", flush=True)
    old_name = connection.settings_dict["NAME"]
    if engine == "sqlite":
        # A file, like the real thing (Django's default test database for SQLite is in memory).
        connection.settings_dict.setdefault("TEST", {})["NAME"] = str(Path(tempfile.gettempdir()) / "relief-bench.sqlite3")
    started = time.perf_counter()
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=args.keepdb)
    print(f"test database {test_name} ready in {time.perf_counter() - started:.1f} s", flush=True)
    try:
        villages = seed_townships_and_villages()
        Household.objects.filter(number__startswith="B").delete()  # a kept database from an earlier run
        with tempfile.TemporaryDirectory(prefix="relief-bench-") as tmp:
            files = {name: Path(tmp) / f"{name}.xlsx" for name in ("create", "update", "bad", "command", "admin")}
            started = time.perf_counter()
            _write_sheet(files["create"], villages, args.rows)
            if not args.entry_points_only:
                _write_sheet(files["update"], villages, args.rows, members_shift=1)
                _write_sheet(files["bad"], villages, args.rows, members_shift=2, bad_last_row=True)
            _write_sheet(files["command"], villages, args.rows, members_shift=3)
            _write_sheet(files["admin"], villages, args.rows, members_shift=4)
            print(f"wrote the sheets of {args.rows} rows in {time.perf_counter() - started:.1f} s "
                  f"({files['create'].stat().st_size / 1e6:.1f} MB each)", flush=True)  # fmt: skip

            baseline, baseline_cpu = min(_openpyxl_only(files["create"]) for _ in range(2))
            # CPU seconds of this process too: on a shared machine wall time mostly measures the
            # neighbours. (With PostgreSQL the server's own CPU is not in this column.)
            print(f"\n{'run':<36}{'rows':>7}{'wall s':>8}{'rows/s':>8}{'x openpyxl':>11}{'cpu s':>8}{'x openpyxl':>11}")
            print(f"{'openpyxl read only (baseline)':<36}{args.rows:>7}{baseline:>8.2f}{args.rows / baseline:>8.0f}{1:>11.2f}"
                  f"{baseline_cpu:>8.2f}{1:>11.2f}")  # fmt: skip

            def run(label: str, path: Path, expect: dict) -> None:
                with path.open("rb") as fh:
                    started, cpu = time.perf_counter(), time.process_time()
                    result = households_import_xlsx(file=fh, author=None)
                    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
                got = {"ok": result.ok, "created": result.created, "updated": result.updated, "unchanged": result.unchanged}
                assert all(got[k] == v for k, v in expect.items()), (label, got, result.problems[:5])
                print(f"{label:<36}{result.rows:>7}{wall:>8.2f}{result.rows / wall:>8.0f}{wall / baseline:>11.2f}"
                      f"{cpu:>8.2f}{cpu / baseline_cpu:>11.2f}", flush=True)  # fmt: skip

            def command(path: Path, expect_updated: int) -> None:
                from django.core.management import call_command

                out = io.StringIO()
                started, cpu = time.perf_counter(), time.process_time()
                call_command("import_households", str(path), stdout=out)
                wall, cpu = time.perf_counter() - started, time.process_time() - cpu
                assert f"更新 {expect_updated}，" in out.getvalue() or f"{expect_updated} updated" in out.getvalue(), out.getvalue()
                print(f"{'command: import_households (update)':<36}{args.rows:>7}{wall:>8.2f}{args.rows / wall:>8.0f}"
                      f"{wall / baseline:>11.2f}{cpu:>8.2f}{cpu / baseline_cpu:>11.2f}", flush=True)  # fmt: skip

            def background(path: Path, expect_updated: int) -> None:
                from django.core.files.uploadedfile import SimpleUploadedFile

                from core.models import SpreadsheetImport
                from core.services import spreadsheet_import_run, spreadsheet_import_start

                upload = SimpleUploadedFile(path.name, path.read_bytes())
                started, cpu = time.perf_counter(), time.process_time()
                job = spreadsheet_import_start(kind="households", params={}, upload=upload, author=None)
                job = spreadsheet_import_run(job_id=job.pk)  # what the worker (or eager Celery) runs
                wall, cpu = time.perf_counter() - started, time.process_time() - cpu
                assert job.background and job.status == SpreadsheetImport.Status.DONE and job.updated == expect_updated, job
                print(f"{'admin: background import (update)':<36}{args.rows:>7}{wall:>8.2f}{args.rows / wall:>8.0f}"
                      f"{wall / baseline:>11.2f}{cpu:>8.2f}{cpu / baseline_cpu:>11.2f}", flush=True)  # fmt: skip

            run("import: all new (create)", files["create"], {"ok": True, "created": args.rows})
            if not args.entry_points_only:
                run("import: same file (unchanged)", files["create"], {"ok": True, "unchanged": args.rows})
                run("import: every row changed", files["update"], {"ok": True, "updated": args.rows})
                run("import: one bad row (nothing saved)", files["bad"], {"ok": False, "created": 0})
            command(files["command"], expect_updated=args.rows)
            background(files["admin"], expect_updated=args.rows)
            assert Household.objects.filter(number__startswith="B").count() == args.rows
    finally:
        if not args.keepdb:
            connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
