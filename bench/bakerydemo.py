"""Wagtail's bakerydemo served on this machine, so that bench/storefront.py can set our pages beside
a baseline measured in the same run, through the same load client and the same gunicorn flags.

Given a bakerydemo source directory (an export of its commit 5a01dcd, "Version bump to Wagtail
7.2": Django 5.2, Wagtail 7.2, runs on Python 3.11; later commits need Django 6 and Python 3.12),
this prepares it once and serves it; the source directory itself is not written to:

- its own virtualenv, /tmp/relief_bakerydemo_venv (kept between runs, reinstalled when what it
  installs changes): ``requirements/base.txt``, plus whitenoise and psycopg as its
  ``requirements/production.txt`` pins them, plus the gunicorn version of our own .venv, with
  django-tasks held at 0.8.1 (see ``_requirements``: 0.9 cannot save a page on Python 3.11);
- settings: its own ``bakerydemo/settings/production.py`` (DEBUG off, whitenoise, no debug
  toolbar, its cache as shipped: local memory, as no REDIS_URL is passed, the same as our bench
  server), with only what plain HTTP on loopback needs changed: no redirect to HTTPS, no HSTS,
  ALLOWED_HOSTS the loopback names, static and media files under /tmp/relief_bakerydemo_venv;
- data: its ``load_initial_data`` (the fixture of its demo site, 11 bread pages, 6 blog posts),
  loaded once into the same kind of database as the storefront rows it is set beside: PostgreSQL
  ``relief_bakerydemo`` (created if missing) or the SQLite file /tmp/relief_bakerydemo.sqlite3
  (``--reset`` starts over);
- pages: home (/), the breads index and its first bread page (a product in a listing, like our
  listing and product pages); each must answer 200 with its title in the HTML before it is
  measured, so that an error page cannot pass for a fast one.

Run alone it prints bakerydemo's requests/s with storefront.py's load client:

    .venv/bin/python bench/bakerydemo.py --source /tmp/bakerydemo-src --db postgres --seconds 4
"""

from __future__ import annotations

import argparse
import html
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import serving  # noqa: E402  (after the path is set)
from bench.storefront import GUNICORN_FLAGS, _free_port, load  # noqa: E402

COMMIT = "5a01dcd"
VENV = Path("/tmp/relief_bakerydemo_venv")
STATE = VENV / "relief"  # our settings module, static and media files, the install stamp
SQLITE_PATH = "/tmp/relief_bakerydemo.sqlite3"
PG_NAME = "relief_bakerydemo"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_NAME}"
SETTINGS = '''\
"""bakerydemo's production settings as shipped, served over plain HTTP on loopback (bench/bakerydemo.py)."""
import os

from bakerydemo.settings.production import *  # noqa: F403

SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
STATIC_ROOT = os.environ["RELIEF_BAKERYDEMO_STATIC"]
MEDIA_ROOT = os.environ["RELIEF_BAKERYDEMO_MEDIA"]
'''


def database_url(db: str) -> str:
    return PG_URL if db == "postgres" else f"sqlite:///{SQLITE_PATH}"


def _env(source: Path, db: str) -> dict:
    """A clean environment (bench/serving.py: clean_env) with bakerydemo's production settings."""
    return serving.clean_env(
        VENV, STATE, "relief_bakerydemo_settings",
        DJANGO_SECRET_KEY="relief-bench-bakerydemo-not-secret",
        DJANGO_LOG_LEVEL="WARNING",
        DATABASE_URL=database_url(db),
        RELIEF_BAKERYDEMO_STATIC=str(STATE / "static"),
        RELIEF_BAKERYDEMO_MEDIA=str(STATE / "media"),
    )


def _requirements(source: Path) -> list[str]:
    """What the virtualenv installs: base.txt, whitenoise and psycopg as production.txt pins them
    (production.py needs whitenoise; PostgreSQL needs psycopg), our gunicorn version, and
    django-tasks 0.8.1: Wagtail 7.2 takes 0.8 to 0.9, and 0.9's slotted frozen TaskResult makes
    its immediate backend raise TypeError on Python 3.11 and 3.12 at the first page saved (in
    ``load_initial_data``), since typing sets ``__orig_class__`` on it and only Python 3.13
    ignores the error that raises."""
    pins = {"whitenoise": "whitenoise", "psycopg": "psycopg[binary]"}
    production = (source / "requirements" / "production.txt").read_text()
    for line in production.splitlines():
        spec = line.split("#")[0].strip()
        name = re.split(r"[\[<>=~! ]", spec, maxsplit=1)[0].lower()
        if name in pins:
            pins[name] = spec
    return ["-r", str(source / "requirements" / "base.txt"), *pins.values(), f"gunicorn=={version('gunicorn')}",
            "django-tasks==0.8.1"]


def ensure_venv(source: Path, log=print) -> None:
    reqs = _requirements(source)
    stamp_text = json.dumps([reqs, (source / "requirements" / "base.txt").read_text()])
    serving.ensure_venv(VENV, STATE / "installed", reqs, stamp_text, name="bakerydemo", log=log)


def _manage(source: Path, db: str, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([str(VENV / "bin" / "python"), "manage.py", *args], cwd=source, env=_env(source, db),
                            capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"bakerydemo manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def _ensure_postgres_db(drop: bool) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if drop:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_NAME}")
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PG_NAME]).fetchone():
            conn.execute(f"CREATE DATABASE {PG_NAME}")


def prepare(source: str | Path, db: str = "postgres", reset: bool = False, log=print) -> dict:
    """Install, migrate, load the demo data and collect static files (each once); return the
    pages to measure ({name: path}), each page's SQL statements and the time this took."""
    source = Path(source).resolve()
    if not (source / "bakerydemo" / "settings" / "production.py").exists():
        raise SystemExit(f"{source} is not a bakerydemo source directory (an export of its commit {COMMIT})")
    t0 = time.monotonic()
    ensure_venv(source, log)
    STATE.mkdir(parents=True, exist_ok=True)
    (STATE / "relief_bakerydemo_settings.py").write_text(SETTINGS)
    if reset:
        shutil.rmtree(STATE / "media", ignore_errors=True)
        shutil.rmtree(STATE / "static", ignore_errors=True)
        for p in Path(SQLITE_PATH).parent.glob(Path(SQLITE_PATH).name + "*"):
            p.unlink()
    if db == "postgres":
        _ensure_postgres_db(drop=reset)
    _manage(source, db, "migrate", "--noinput", "-v0")
    probe = "from bakerydemo.breads.models import BreadPage; print(BreadPage.objects.count())"
    if int(_manage(source, db, "shell", "--no-imports", "-c", probe).stdout.split()[-1]) == 0:
        log(f"# bakerydemo: load_initial_data into {database_url(db)}")
        _manage(source, db, "load_initial_data")
    # The static files' manifest names the files a page links to; collected again for another source.
    manifest, collected_from = STATE / "static" / "staticfiles.json", STATE / "static-source"
    if not manifest.exists() or not collected_from.exists() or collected_from.read_text() != str(source):
        _manage(source, db, "collectstatic", "--noinput", "-v0")
        collected_from.write_text(str(source))
    script = (
        "from django.conf import settings; settings.ALLOWED_HOSTS = ['*']\n"
        "from django.db import connection; from django.test import Client; from django.test.utils import CaptureQueriesContext\n"
        "from bakerydemo.breads.models import BreadPage, BreadsIndexPage\n"
        "index = BreadsIndexPage.objects.live().first()\n"
        "detail = BreadPage.objects.live().child_of(index).order_by('path').first()\n"
        "pages = {'home': '/', 'index': index.url, 'detail': detail.url}\n"
        "c = Client()\n"
        "queries = {}\n"
        "for name, path in pages.items():\n"
        "    c.get(path)\n"
        "    with CaptureQueriesContext(connection) as q: assert c.get(path).status_code == 200, path\n"
        "    queries[name] = len(q.captured_queries)\n"
        "import json; print(json.dumps({'pages': pages, 'queries': queries}))\n"
    )
    info = json.loads(_manage(source, db, "shell", "--no-imports", "-c", script).stdout.strip().splitlines()[-1])
    info.update(source=source, db=db, database_url=database_url(db), prepare_s=time.monotonic() - t0)
    return info


class Server:
    """bakerydemo under gunicorn, with the flags of storefront.py's server, on a free loopback port."""

    def __init__(self, info: dict):
        self.port = _free_port()
        self.log = STATE / "gunicorn.log"
        self.proc = subprocess.Popen(
            [str(VENV / "bin" / "gunicorn"), "bakerydemo.wsgi", *GUNICORN_FLAGS, "-b", f"127.0.0.1:{self.port}"],
            cwd=info["source"], env=_env(info["source"], info["db"]), stdout=subprocess.DEVNULL,
            stderr=self.log.open("w"),
        )
        if not serving.wait_until_serving(self.proc, lambda: fetch(self.port, "/")[0] == 200, 60):
            self.stop()
            raise RuntimeError(f"bakerydemo's gunicorn did not start; see {self.log}")

    def stop(self) -> None:
        serving.stop(self.proc)


def fetch(port: int, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Accept-Language": "zh-hans"})
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def check_pages(port: int, pages: dict) -> dict:
    """Each page through the server: 200, HTML with a <title>; {name: (bytes, title)}. Raises otherwise."""
    seen = {}
    for name, path in pages.items():
        status, body = fetch(port, path)
        title = re.search(r"<title>(.*?)</title>", body, re.S)
        if status != 200 or not title or "</html>" not in body:
            raise RuntimeError(f"bakerydemo {name} {path} answered {status} without a whole HTML page: {body[:300]!r}")
        seen[name] = (len(body.encode()), " ".join(html.unescape(title.group(1)).split()))
    return seen


def describe(info: dict, seen: dict) -> str:
    return (f"bakerydemo ({info['source']}, its production settings, {info['db']}): "
            + "; ".join(f"{name} {info['pages'][name]} 200 {size:,} B «{title}» {info['queries'][name]} SQL"
                        for name, (size, title) in seen.items()))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default=os.environ.get("BAKERYDEMO_SOURCE"), required="BAKERYDEMO_SOURCE" not in os.environ,
                        help=f"a bakerydemo source directory (an export of its commit {COMMIT}); default $BAKERYDEMO_SOURCE")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--reset", action="store_true", help="drop its database and files and load them again")
    args = parser.parse_args(argv)
    info = prepare(args.source, args.db, args.reset)
    print(f"bakerydemo bench: gunicorn -w 2, {args.threads} client threads, ≤{args.seconds}s or ≤{args.requests} requests per URL")
    server = Server(info)
    try:
        print("# " + describe(info, check_pages(server.port, info["pages"])))
        print(f"{'db':9} {'page':8} {'req':>6} {'err':>4} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
        for page, path in info["pages"].items():
            r = load(server.port, path, threads=args.threads, seconds=args.seconds, max_requests=args.requests)
            print(f"{args.db:9} {page:8} {r['requests']:>6} {r['errors']:>4} {r['rps']:>8.0f} {r['p50']:>8.2f} {r['p99']:>8.2f}",
                  flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
