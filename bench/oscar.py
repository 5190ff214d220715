"""django-oscar 4.2's sandbox shop served on this machine, so that bench/checkout_flow.py can set our
browser-shaped checkout beside oscar's full checkout measured in the same run, with the same kind
of client (bench/checkout_flow.py's ``Browser``: keep-alive connection, cookie jar, CSRF from the
HTML) and the same gunicorn flags (``bench.checkout.gunicorn_flags``: sync workers).

Given an oscar source directory (an export of its tag 4.2.0), this prepares it once and serves its
``sandbox/`` (the source directory itself is not written to):

- its own virtualenv, /tmp/relief_oscar_venv (kept between runs, reinstalled when what it installs
  changes): ``django-oscar[sorl-thumbnail,easy-thumbnails]`` of the source's version from the
  package registry (the source's git tree has no built CSS/JS, which its release carries; its
  Python files and templates are checked to be the source's own, file by file), plus what the
  sandbox needs as the source's ``test`` extra pins it (Whoosh, django-environ, whitenoise,
  psycopg2-binary, pycountry), the redis client and the gunicorn version of our own .venv;
- settings: the sandbox's own ``settings.py`` with what it reads from the environment set as in
  production: DEBUG off, ALLOWED_HOSTS the loopback names, PostgreSQL ``relief_oscar``, and its
  cache (``CACHE_URL``) on Redis, db 6 (``OSCAR_REDIS_URL``; our bench server uses another db);
  then in a settings module of ours: persistent database connections (CONN_MAX_AGE 60, as our
  production settings), Django's cached template loader (the sandbox names its loaders, which
  leaves it out: every request parsed its templates again, 1.6 × the CPU per order in a trial),
  logging at WARNING (the sandbox logs DEBUG to the console), static and media files and the
  Whoosh index under /tmp/relief_oscar_venv. Everything else is the
  sandbox's: database sessions, ATOMIC_REQUESTS, whitenoise, sorl thumbnails, the console email
  backend (the order confirmation is rendered and "sent"; gunicorn's stdout goes nowhere);
- data: what the source's Makefile ``build_sandbox`` loads (auth.json, child_products.json, the
  catalogue CSVs, images, countries, pages, ranges, offers, orders, the search index), once;
- per run: the first ``--products`` public standalone products with a stock record, their stock
  raised to a million units beyond what is allocated; one signed-in customer per client thread
  (created once, ``relief-oscar-NN@bench.invalid``), their open baskets and saved addresses removed;
  the basket ids moved past the order numbers taken (oscar numbers an order 100000 + its basket's
  id, and the sandbox's orders.json holds 100099: basket 99's checkout failed on it).

One oscar checkout, as a browser does it (12 requests, each status checked; redirects followed
as a browser follows them, checking where they lead):

    product page → add to basket (form POST) → basket → checkout (→ shipping address, signed in)
    → shipping address form POST (→ shipping method → payment method → payment details, one
    free shipping method and no payment gateway, as the sandbox ships) → preview → place order
    (form POST) → thank-you page, which must show the order number

Afterwards the orders the customers placed during the run are counted in oscar's database: they
must be exactly the order numbers the counted flows' thank-you pages showed.

    .venv/bin/python bench/oscar.py --source /tmp/oscar-src --clients 8 --seconds 15
"""

from __future__ import annotations

import argparse
import filecmp
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import checkout as cb  # noqa: E402  (after the path is set)
from bench import serving  # noqa: E402
from bench.checkout_flow import _CSRF, Browser  # noqa: E402

TAG = "4.2.0"
VENV = Path("/tmp/relief_oscar_venv")
STATE = VENV / "relief"  # our settings module, static and media files, the search index, the install stamp
PG_NAME = "relief_oscar"
REDIS_URL = os.environ.get("OSCAR_REDIS_URL", "redis://127.0.0.1:6379/6")
PASSWORD = "relief-oscar-Pw-1"
PREFIX = "/en-gb"  # the sandbox's URLs are in i18n_patterns; its LANGUAGE_CODE
REQUESTS_PER_FLOW = 12
SETTINGS = '''\
"""django-oscar's sandbox settings, served as in production on loopback (bench/oscar.py)."""
import os

from settings import *  # noqa: F403

DATABASES["default"]["CONN_MAX_AGE"] = 60  # noqa: F405  (as our production settings)
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
LOGGING["loggers"]["oscar"]["level"] = "WARNING"  # noqa: F405
STATIC_ROOT = os.environ["RELIEF_OSCAR_STATIC"]
MEDIA_ROOT = os.environ["RELIEF_OSCAR_MEDIA"]
HAYSTACK_CONNECTIONS["default"]["PATH"] = os.environ["RELIEF_OSCAR_WHOOSH"]  # noqa: F405
# The sandbox names its template loaders, which leaves out Django's cached loader (each request
# parses its templates again); a production deployment caches them.
TEMPLATES[0]["OPTIONS"]["loaders"] = [("django.template.loaders.cached.Loader", TEMPLATES[0]["OPTIONS"]["loaders"])]  # noqa: F405
'''
_ORDER_NUMBER = re.compile(r"order number is\s*<strong>\s*([^<\s]+)\s*</strong>")


def _env(source: Path) -> dict:
    """A clean environment (bench/serving.py: clean_env); what the sandbox's settings read from the
    environment, set as in production."""
    return serving.clean_env(
        VENV, STATE, "relief_oscar_settings",
        DEBUG="False",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECRET_KEY="relief-bench-oscar-not-secret",
        DATABASE_ENGINE="django.db.backends.postgresql",
        DATABASE_NAME=PG_NAME,
        DATABASE_USER="postgres",
        DATABASE_HOST="127.0.0.1",
        DATABASE_PORT="5432",
        CACHE_URL=REDIS_URL,
        RELIEF_OSCAR_STATIC=str(STATE / "static"),
        RELIEF_OSCAR_MEDIA=str(STATE / "media"),
        RELIEF_OSCAR_WHOOSH=str(STATE / "whoosh_index"),
    )


def _source_version(source: Path) -> str:
    text = (source / "src" / "oscar" / "__init__.py").read_text()
    parts = re.search(r"VERSION = \((\d+), (\d+), (\d+)", text).groups()
    return ".".join(parts[:2] if parts[2] == "0" else parts)  # oscar's get_version(): 4.2.0 is "4.2"


def _requirements(source: Path) -> list[str]:
    """oscar of the source's version, with the extras the sandbox's INSTALLED_APPS name; what the
    sandbox needs at the versions the source's ``test`` extra allows; the redis client of our
    .venv for the cache; our gunicorn version."""
    wanted = {"whoosh", "django-environ", "whitenoise", "psycopg2-binary", "pycountry"}
    pins = {}
    pyproject = (source / "pyproject.toml").read_text()
    test_extra = re.search(r"^test = \[(.*?)^\]", pyproject, re.S | re.M).group(1)
    for spec in re.findall(r'"([^"]+)"', test_extra):
        name = re.split(r"[\[<>=~! ]", spec, maxsplit=1)[0].lower()
        if name in wanted:
            pins[name] = spec
    missing = wanted - set(pins)
    if missing:
        raise SystemExit(f"{source}/pyproject.toml's test extra does not name {sorted(missing)}")
    return [f"django-oscar[sorl-thumbnail,easy-thumbnails]=={_source_version(source)}", *pins.values(),
            f"redis=={version('redis')}", f"gunicorn=={version('gunicorn')}"]


def _same_as_source(source: Path) -> None:
    """The installed oscar's Python files and templates must be the source's (the release adds
    only its built static files)."""
    site = next((VENV / "lib").glob("python*/site-packages/oscar"))
    src = source / "src" / "oscar"
    differ = []
    for path in src.rglob("*"):
        if path.suffix in (".py", ".html", ".txt") and "static_src" not in path.parts:
            other = site / path.relative_to(src)
            if not other.exists() or not filecmp.cmp(path, other, shallow=False):
                differ.append(str(path.relative_to(src)))
    if differ:
        raise SystemExit(f"the installed django-oscar is not {source}'s: {len(differ)} files differ, e.g. {differ[:5]}")


def ensure_venv(source: Path, log=print) -> None:
    reqs = _requirements(source)
    stamp_text = json.dumps([reqs, str(source), (source / "pyproject.toml").read_text()])
    serving.ensure_venv(VENV, STATE / "installed", reqs, stamp_text, name=f"oscar ({reqs[0]})", log=log,
                        check=lambda: _same_as_source(source))


def _manage(source: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([str(VENV / "bin" / "python"), "manage.py", *args], cwd=source / "sandbox", env=_env(source),
                            capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"oscar sandbox manage.py {' '.join(args)[:200]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def _shell(source: Path, script: str) -> dict:
    """Run ``script`` in the sandbox's Django; its last line of output, as JSON."""
    return json.loads(_manage(source, "shell", "--no-imports", "-c", script).stdout.strip().splitlines()[-1])


def _ensure_postgres_db(drop: bool) -> None:
    import psycopg

    with psycopg.connect(cb.ADMIN_URL, autocommit=True) as conn:
        if drop:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PG_NAME]).fetchone():
            conn.execute(f"CREATE DATABASE {PG_NAME}")


def _load_sandbox_data(source: Path, log=print) -> None:
    """The source's Makefile ``sandbox_load_user`` and ``sandbox_load_data``, in its order."""
    fixtures = source / "sandbox" / "fixtures"
    log(f"# oscar: loading the sandbox's demo data into {PG_NAME} (once)")
    t0 = time.monotonic()
    _manage(source, "loaddata", str(fixtures / "auth.json"))
    _manage(source, "loaddata", str(fixtures / "child_products.json"))
    _manage(source, "oscar_import_catalogue", *sorted(str(p) for p in fixtures.glob("*.csv")))
    _manage(source, "oscar_import_catalogue_images", str(fixtures / "images.tar.gz"))
    _manage(source, "oscar_populate_countries", "--initial-only")
    _manage(source, "loaddata", *(str(fixtures / f) for f in ("pages.json", "ranges.json", "offers.json")))
    _manage(source, "loaddata", str(fixtures / "orders.json"))
    _manage(source, "clear_index", "--noinput")
    _manage(source, "update_index", "catalogue")
    log(f"# oscar: demo data loaded in {time.monotonic() - t0:.0f} s")


_SETUP = '''
import json
from django.contrib.auth import get_user_model
from oscar.core.loading import get_model
from django.db.models import F
from django.db.models.functions import Coalesce
Product = get_model("catalogue", "Product")
StockRecord = get_model("partner", "StockRecord")
Basket = get_model("basket", "Basket")
UserAddress = get_model("address", "UserAddress")
Order = get_model("order", "Order")
User = get_user_model()
products = list(Product.objects.filter(structure="standalone", is_public=True, stockrecords__isnull=False)
                .exclude(product_class__options__required=True).distinct().order_by("pk")[:{products}])
records = StockRecord.objects.filter(product__in=products)
records.update(num_in_stock=Coalesce(F("num_allocated"), 0) + 1000000)  # num_allocated may be NULL
users = []
for n in range({clients}):
    email = f"relief-oscar-{{n:02d}}@bench.invalid"
    user = User.objects.filter(username=f"relief-oscar-{{n:02d}}").first()
    if user is None:
        user = User.objects.create_user(username=f"relief-oscar-{{n:02d}}", email=email, password="{password}")
    elif user.email != email:
        User.objects.filter(pk=user.pk).update(email=email)
        user.email = email
    users.append(user)
Basket.objects.filter(owner__in=users, status=Basket.OPEN).delete()
# Oscar numbers an order 100000 + its basket's id, and the sandbox's orders.json holds order 100099:
# basket 99's checkout would fail ("There is already an order with number 100099"). Baskets start past
# the numbers taken.
from django.db import connection
taken = max([int(n) - 100000 for n in Order.objects.values_list("number", flat=True) if n.isdigit()] or [0])
with connection.cursor() as cursor:
    cursor.execute("SELECT setval(pg_get_serial_sequence('basket_basket', 'id'), "
                   "GREATEST((SELECT COALESCE(MAX(id), 1) FROM basket_basket), %s))", [taken])
UserAddress.objects.filter(user__in=users).delete()
print(json.dumps({{
    "products": [{{"pk": p.pk, "url": p.get_absolute_url(), "title": p.get_title(),
                  "price": str(p.stockrecords.first().price), "in_stock": p.stockrecords.first().net_stock_level}} for p in products],
    "emails": [u.email for u in users],
    "last_order_id": Order.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
    "orders": Order.objects.count(),
}}))
'''

_ORDERS_SINCE = '''
import json
from oscar.core.loading import get_model
Order = get_model("order", "Order")
new = Order.objects.filter(pk__gt={last}).order_by("pk")
print(json.dumps({{"numbers": list(new.values_list("number", flat=True)),
                  "by_customers": new.filter(user__email__in={emails}).count(),
                  "lines": get_model("order", "Line").objects.filter(order__in=new).count()}}))
'''


def prepare(source: str | Path, *, clients: int, products: int = 4, reset: bool = False, log=print) -> dict:
    """Install, migrate, load the demo data and collect static files (each once); then the run's
    products (stock raised) and customers (one per client). Returns what the run needs."""
    source = Path(source).resolve()
    if not (source / "sandbox" / "settings.py").exists() or not (source / "src" / "oscar").is_dir():
        raise SystemExit(f"{source} is not a django-oscar source directory (an export of its tag {TAG})")
    t0 = time.monotonic()
    ensure_venv(source, log)
    STATE.mkdir(parents=True, exist_ok=True)
    (STATE / "relief_oscar_settings.py").write_text(SETTINGS)
    if reset:
        for name in ("media", "static", "whoosh_index"):
            shutil.rmtree(STATE / name, ignore_errors=True)
        (STATE / "data-loaded").unlink(missing_ok=True)
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()  # its thumbnails' keys name files just removed
    _ensure_postgres_db(drop=reset)
    _manage(source, "migrate", "--noinput", "-v0")
    loaded = STATE / "data-loaded"
    if not loaded.exists() or loaded.read_text() != str(source):
        _load_sandbox_data(source, log)
        loaded.write_text(str(source))
    manifest, collected_from = STATE / "static" / "staticfiles.json", STATE / "static-source"
    if not manifest.exists() or not collected_from.exists() or collected_from.read_text() != str(source):
        _manage(source, "collectstatic", "--noinput", "-v0")
        collected_from.write_text(str(source))
    info = _shell(source, _SETUP.format(products=products, clients=clients, password=PASSWORD))
    if len(info["products"]) < products:
        raise RuntimeError(f"oscar sandbox: only {len(info['products'])} products to buy")
    info.update(source=source, prepare_s=time.monotonic() - t0, version=version_installed())
    return info


def version_installed() -> str:
    out = subprocess.run([str(VENV / "bin" / "python"), "-c", "import django, oscar; print(oscar.get_version(), django.get_version())"],
                         capture_output=True, text=True, check=True).stdout.split()
    return f"django-oscar {out[0]}, Django {out[1]}"


class Server:
    """The sandbox under gunicorn, with the flags of our checkout bench's server, on a free loopback port."""

    def __init__(self, info: dict, workers: int):
        self.port = cb.free_port()
        self.log = STATE / "gunicorn.log"
        self.proc = subprocess.Popen(
            [str(VENV / "bin" / "gunicorn"), "wsgi", "-b", f"127.0.0.1:{self.port}", *cb.gunicorn_flags(workers, 1)],
            cwd=info["source"] / "sandbox", env=_env(info["source"]), stdout=subprocess.DEVNULL, stderr=self.log.open("w"),
        )
        self.pid = self.proc.pid

        def answers() -> bool:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            conn.request("GET", f"{PREFIX}/catalogue/", headers={"Host": "localhost"})
            return conn.getresponse().status == 200

        if not serving.wait_until_serving(self.proc, answers, 60):
            self.stop()
            raise RuntimeError(f"oscar's gunicorn did not start; see {self.log}")

    def stop(self) -> None:
        serving.stop(self.proc, timeout=30)


def _path(location: str) -> str:
    return re.sub(r"^https?://[^/]+", "", location)


class OscarBrowser(Browser):
    """checkout_flow's browser (one keep-alive connection, a cookie jar), walking oscar's checkout."""

    def __init__(self, port: int):
        super().__init__(port)
        self.requests = 0
        self.orders: list[str] = []  # the order numbers its thank-you pages showed

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str]:
        self.requests += 1
        return super().request(method, path, form)

    def follow(self, location: str, expected: str) -> tuple[int, str, str]:
        """GET ``location`` and the redirects it leads to, as a browser does; the last page must be ``expected``."""
        for _hop in range(5):
            path = _path(location)
            status, location, html = self.request("GET", path)
            if status not in (301, 302):
                break
        if path != f"{PREFIX}{expected}":
            return 0, path, f"led to {path} ({status}), not {expected}"
        return status, path, html

    def sign_in(self, email: str) -> None:
        _s, _l, html = self.request("GET", f"{PREFIX}/accounts/login/")
        status, _l, _h = self.request("POST", f"{PREFIX}/accounts/login/", {
            "csrfmiddlewaretoken": _CSRF.search(html).group(1), "login-username": email, "login-password": PASSWORD,
            "login_submit": "Log In",
        })
        if status != 302:
            raise RuntimeError(f"oscar sign-in as {email}: {status}")

    def order(self, product: dict) -> str | None:
        """One whole oscar checkout; the problem if a step did not answer as a browser expects."""
        status, _l, html = self.request("GET", product["url"])
        if status != 200 or 'id="add_to_basket_form"' not in html:
            return f"product page {status}"
        status, _l, _h = self.request("POST", f"{PREFIX}/basket/add/{product['pk']}/", {
            "csrfmiddlewaretoken": _CSRF.search(html).group(1), "quantity": 1,
        })
        if status != 302:
            return f"add to basket {status}"
        status, _l, html = self.request("GET", f"{PREFIX}/basket/")
        if status != 200 or product["url"] not in html or "basket_formset" not in html:
            return f"basket {status} (product not in it)"
        status, path, html = self.follow(f"{PREFIX}/checkout/", "/checkout/shipping-address/")
        if status != 200 or 'name="line1"' not in html:
            return f"checkout → shipping address: {status} {html[:80] if not status else ''}"
        status, location, html = self.request("POST", path, {
            "csrfmiddlewaretoken": _CSRF.search(html).group(1), "title": "", "first_name": "Li", "last_name": "Wei",
            "line1": "1 Chestnut Road", "line2": "", "line3": "", "line4": "London", "state": "", "postcode": "SW1A 1AA",
            "country": "GB", "phone_number": "", "notes": "",
        })
        if status != 302:
            errors = re.findall(r'class="[^"]*invalid-feedback[^"]*"[^>]*>\s*([^<]+)', html)
            return f"shipping address {status} {errors[:3]}"
        status, _p, html = self.follow(location, "/checkout/payment-details/")
        if status != 200 or 'id="view_preview"' not in html:
            return f"shipping method → payment details: {status} {html[:80] if not status else ''}"
        status, _l, html = self.request("GET", f"{PREFIX}/checkout/preview/")
        if status != 200 or 'id="place_order_form"' not in html:
            return f"preview {status}"
        status, location, _h = self.request("POST", f"{PREFIX}/checkout/preview/", {
            "csrfmiddlewaretoken": _CSRF.search(html).group(1), "action": "place_order",
        })
        if status != 302 or not _path(location).startswith(f"{PREFIX}/checkout/thank-you/"):
            error = re.search(r'class="alert alert-danger">\s*([^<]+)', _h)
            return f"place order {status} → {location!r}" + (f" «{error.group(1).strip()}»" if error else "")
        status, _l, html = self.request("GET", _path(location))
        number = _ORDER_NUMBER.search(html)
        if status != 200 or not number:
            return f"thank-you page {status} without an order number"
        self.orders.append(number.group(1))
        return None


def measure(info: dict, *, clients: int, seconds: float, workers: int = 2, log=print) -> dict:
    """Oscar's full checkouts through gunicorn: one signed-in customer per client thread, each
    repeating the flow until the time is up (a flow under way then finishes), as checkout_flow.py
    runs ours. Then the orders in oscar's database are set against the thank-you pages seen."""
    server = Server(info, workers)
    products = info["products"]
    try:
        browsers = []
        for email in info["emails"][:clients]:
            browser = OscarBrowser(server.port)
            browser.sign_in(email)
            browsers.append(browser)
        for product in products:  # warm each product page once (its thumbnails are made at the first view)
            browsers[0].request("GET", product["url"])
        for browser in browsers:
            browser.requests = 0
        cpu_before = {}  # the server's and this process's CPU seconds when the clients start

        def one_order(browser: OscarBrowser, i: int) -> str | None:
            return browser.order(products[i % len(products)])

        def read_cpu() -> None:
            cpu_before["server"] = cb._cpu_seconds(server.pid)
            cpu_before["clients"] = cb.own_cpu_seconds()

        flows, problems, elapsed = serving.run_flows(browsers, one_order, seconds, port=server.port, before=read_cpu)
        cpu = cb._cpu_seconds(server.pid) - cpu_before["server"]
        client_cpu = cb.own_cpu_seconds() - cpu_before["clients"]
    finally:
        server.stop()
    seen = [number for b in browsers for number in b.orders]
    emails = info["emails"][:clients]
    db = _shell(info["source"], _ORDERS_SINCE.format(last=info["last_order_id"], emails=json.dumps(emails)))
    requests = sum(b.requests for b in browsers)
    result = {
        "flows": flows, "problems": problems, "elapsed": elapsed, "cpu": cpu, "client_cpu": client_cpu, "rate": len(flows) / elapsed,
        "requests": requests, "seen": seen, "db": db, "clients": len(browsers), "workers": workers,
        "orders_match": sorted(seen) == sorted(db["numbers"]) and db["by_customers"] == len(db["numbers"]) == len(flows),
    }
    return result


def describe(info: dict) -> str:
    return (f"django-oscar sandbox ({info['source']}, {info['version']}, PostgreSQL {PG_NAME}, cache Redis {REDIS_URL}, "
            "DEBUG off): products " + ", ".join(f"{p['url']} «{p['title']}» {p['price']}" for p in info["products"]))


def report(r: dict, indent: str = "  ") -> list[str]:
    """The lines that give oscar's figure and how it was checked."""
    flows, db = r["flows"], r["db"]
    lines = []
    per_flow = r["requests"] / (len(flows) + len(r["problems"])) if flows or r["problems"] else 0
    if flows:
        lines.append(f"{indent}{r['rate']:.1f} checkouts/s   flow p50 {statistics.median(flows) * 1000:.0f} ms   p95 {cb.pct(flows, 95):.0f} ms   "
                     f"({len(flows)} orders in {r['elapsed']:.1f} s; {r['requests']} requests, {per_flow:.1f} a flow)")
        lines.append(f"{indent}gunicorn CPU per order ({REQUESTS_PER_FLOW} requests): {r['cpu'] / len(flows) * 1000:.1f} ms; "
                     f"the browsers' own: {r['client_cpu'] / len(flows) * 1000:.1f} ms")
    else:
        lines.append(f"{indent}no checkout completed in {r['elapsed']:.1f} s")
    lines.append(f"{indent}failed flows: {len(r['problems'])}" + (f" (e.g. {r['problems'][:3]})" if r["problems"] else ""))
    lines.append(f"{indent}orders in oscar's database during the run: {len(db['numbers'])} ({db['by_customers']} by the bench customers, "
                 f"{db['lines']} lines); thank-you pages counted: {len(r['seen'])}; "
                 + ("the same order numbers" if r["orders_match"] else "MISMATCH: these figures are not to be trusted"))
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default=os.environ.get("OSCAR_SOURCE"), required="OSCAR_SOURCE" not in os.environ,
                        help=f"a django-oscar source directory (an export of its tag {TAG}); default $OSCAR_SOURCE")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--products", type=int, default=4)
    parser.add_argument("--reset", action="store_true", help="drop its database and files and load them again")
    args = parser.parse_args(argv)
    info = prepare(args.source, clients=args.clients, products=args.products, reset=args.reset)
    print(f"# {describe(info)} (set-up {info['prepare_s']:.1f} s)")
    r = measure(info, clients=args.clients, seconds=args.seconds, workers=args.workers)
    print(f"\ndjango-oscar full checkout flow — {r['clients']} signed-in browsers, gunicorn {args.workers} sync workers, PostgreSQL + Redis, "
          f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f})")
    print("  flow: product page, add to basket, basket, checkout → shipping address, address form, → shipping method → payment "
          f"method → payment details, preview, place order, thank-you ({REQUESTS_PER_FLOW} requests)")
    for line in report(r):
        print(line)
    if not r["orders_match"]:
        sys.exit(1)


if __name__ == "__main__":
    sys.exit(main())
