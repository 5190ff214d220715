"""Browser-shaped checkout benchmark: what a phone's browser does for one order, as HTML with a
session and CSRF, through gunicorn + PostgreSQL (production settings, Redis cache):

    product page → add to cart (form POST) → cart → checkout form → place order (form POST)
    → the order's confirmation page

Each client thread signs in once through the sign-in form as each of its own employees
(``--employees-per-client``, 4 by default: one employee's 700-yuan allocation pays for some 60–100
of these orders, fewer than a client places in a long run on a fast machine, and an order the
allocation cannot pay asks for a card the bench has not), keeps their cookies, and repeats the
flow until the time is up, each flow as the next of its employees. Printed: completed orders/s, p50/p95 of a
whole flow, gunicorn CPU per order, and the rate beside django-oscar 4.2's full checkouts/s (the
goal is 10 ×); afterwards the books are checked as in ``bench/checkout.py`` (zero invariant
violations is part of the result).

django-oscar's figure is measured in the same run when an oscar source directory is given, an
export of its tag 4.2.0 (``--oscar DIR``, or ``OSCAR_SOURCE``): bench/oscar.py prepares its
sandbox shop once (its own virtualenv, PostgreSQL ``relief_oscar``, its demo catalogue) and serves
it with the same gunicorn flags and workers; right after our flow, the same number of signed-in
browsers (the same client class) run its full checkout (for ``--oscar-seconds``, 45 by default: each
of its flows takes seconds), and the ratio divides by that figure; the two servers' CPU per order
is printed as a ratio too, which other work on the machine moves less. Without one the ratio uses ``OSCAR_CHECKOUTS_PER_S``, a figure from an
earlier machine, and the output says so.

    .venv/bin/python bench/checkout_flow.py --clients 8 --seconds 15 --workers 2 --oscar /tmp/oscar-src

Database ``relief_cache_flow`` (rebuilt each run from a migrated template kept between runs).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import checkout as cb  # noqa: E402  (after the path is set)
from bench import serving  # noqa: E402

# django-oscar 4.2, full checkout flow. Measured long ago on another machine: only the fallback when
# no oscar source is given (--oscar), and the output then says so.
OSCAR_CHECKOUTS_PER_S = 6.6
PASSWORD = "bench-flow-Pw-1"
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _use_database(name: str) -> None:
    cb.DB = name
    cb.DB_URL = f"postgres://postgres@127.0.0.1:5432/{name}"


def seed_pages(product_ids: list[int]) -> list[str]:
    """A home page, one category and a product page per product (as the county's editors make
    them); returns the product pages' URLs."""
    from cms.demo import _child, _home
    from cms.models import CategoryPage, ProductPage
    from marketplace.models import Product

    home = _home()
    category = _child(home, CategoryPage, slug="chestnut", title="板栗", category="chestnut")
    urls = []
    for product in Product.objects.filter(pk__in=product_ids).order_by("pk"):
        page = _child(category, ProductPage, slug=f"p{product.pk}", title=product.name, product=product, summary="镇安板栗")
        urls.append(page.url)
    return urls


class Browser:
    """One keep-alive connection and a cookie jar."""

    def __init__(self, port: int):
        self.port = port
        self.jar: dict[str, str] = {}
        self.jars: list[dict[str, str]] = []  # one per employee signed in, ``jar`` the one in use
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str]:
        headers = {"Accept-Language": "zh-hans", "Host": "localhost"}
        if self.jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        html = response.read().decode(errors="replace")
        for header in response.msg.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or morsel["expires"].endswith("1970 00:00:00 GMT"):
                    self.jar.pop(name, None)  # deleted, as a browser drops it (Django's delete_cookie)
                else:
                    self.jar[name] = morsel.value
        return response.status, response.getheader("Location") or "", html

    def sign_in(self, username: str) -> None:
        _s, _l, html = self.request("GET", "/accounts/login/")
        status, _l, _h = self.request("POST", "/accounts/login/", {
            "csrfmiddlewaretoken": _CSRF.search(html).group(1), "username": username, "password": PASSWORD,
        })
        if status != 302:
            raise RuntimeError(f"sign-in as {username}: {status}")

    def order(self, product_url: str, product_id: int) -> str | None:
        """One whole order; the problem if a step did not answer as a browser expects."""
        status, _l, html = self.request("GET", product_url)
        if status != 200 or "add-to-cart" not in html:
            return f"product page {status}"
        status, _l, _h = self.request("POST", "/cart/add/", {
            "csrfmiddlewaretoken": _CSRF.search(html).group(1), "product": product_id, "quantity": 1, "next": product_url,
        })
        if status != 302:
            return f"add to cart {status}"
        status, _l, _h = self.request("GET", "/cart/")
        if status != 200:
            return f"cart {status}"
        status, _l, html = self.request("GET", "/checkout/")
        if status != 200:
            return f"checkout form {status}"
        status, location, _h = self.request("POST", "/checkout/", {"csrfmiddlewaretoken": _CSRF.search(html).group(1), "fulfilment": "pickup"})
        if status != 302 or "/orders/" not in location:
            return f"place order {status}"
        status, _l, _h = self.request("GET", location.replace("http://localhost", ""))
        if status != 200:
            return f"confirmation {status}"
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--products", type=int, default=4)
    parser.add_argument("--employees-per-client", type=int, default=4,
                        help="employees each client signs in as and orders for in turn (default 4)")
    parser.add_argument("--database", default="relief_cache_flow")
    parser.add_argument("--oscar", metavar="DIR", default=os.environ.get("OSCAR_SOURCE") or None,
                        help="a django-oscar source directory (its tag 4.2.0) whose sandbox's full checkout is measured in the same "
                             "run, as the baseline of the ratio (bench/oscar.py); default $OSCAR_SOURCE; without it the ratio uses "
                             f"the constant {OSCAR_CHECKOUTS_PER_S} checkouts/s from an earlier machine")
    parser.add_argument("--oscar-seconds", type=float, default=45,
                        help="how long oscar's flows run (default 45: each of its flows takes seconds, so a run as short as ours "
                             "counts too few of them to give a steady rate)")
    args = parser.parse_args()
    oscar = oscar_info = None
    if args.oscar:
        from bench import oscar

        oscar_info = oscar.prepare(args.oscar, clients=args.clients, products=args.products, log=lambda line: print(line, flush=True))

    _use_database(args.database)
    t0 = time.perf_counter()
    cb.migrated_database()
    cb.setup_django()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import PBKDF2PasswordHasher
    from django.db import connection

    from marketplace.models import Employee, Product

    initial = cb.seed(products=args.products, units_per_product=3 * 10_000, employees=args.clients * args.employees_per_client)
    product_ids = list(Product.objects.order_by("pk").values_list("pk", flat=True))
    urls = seed_pages(product_ids)
    usernames = list(Employee.objects.order_by("pk").values_list("user__username", flat=True))
    get_user_model().objects.filter(username__in=usernames).update(
        password=PBKDF2PasswordHasher().encode(PASSWORD, "benchflowsalt")  # the server's hasher (the set-up runs with fast test hashing)
    )
    connection.close()
    print(f"set-up: {len(usernames)} employees ({args.employees_per_client} a client, ordering in turn), {len(product_ids)} product pages "
          f"({time.perf_counter() - t0:.1f} s)")

    port = cb.free_port()
    server = cb.start_server(port, args.workers, 1)
    try:
        browsers = []
        for c in range(args.clients):
            browser = Browser(port)
            for username in usernames[c::args.clients]:
                browser.jar = {}
                browser.sign_in(username)
                browser.jars.append(browser.jar)
            browsers.append(browser)
        for browser in browsers[:2]:  # warm each page once
            browser.request("GET", urls[0])
        cpu_before = {}  # the server's and this process's CPU seconds when the clients start

        def one_order(browser: Browser, i: int) -> str | None:
            browser.jar = browser.jars[i // len(urls) % len(browser.jars)]  # the next employee once each product is in the cart once
            return browser.order(urls[i % len(urls)], product_ids[i % len(product_ids)])

        def read_cpu() -> None:
            cpu_before["server"] = cb._cpu_seconds(server.pid)
            cpu_before["clients"] = cb.own_cpu_seconds()

        flows, problems, elapsed = serving.run_flows(browsers, one_order, args.seconds, port=port, before=read_cpu)
        cpu = cb._cpu_seconds(server.pid) - cpu_before["server"]
        client_cpu = cb.own_cpu_seconds() - cpu_before["clients"]
    finally:
        server.terminate()
        server.wait(timeout=30)

    oscar_result = None
    if oscar:  # right after ours: the same clients and workers, for long enough to count its slower flows
        oscar_result = oscar.measure(oscar_info, clients=args.clients, seconds=max(args.seconds, args.oscar_seconds), workers=args.workers)
    violations = cb.invariants(initial["units"])
    rate = len(flows) / elapsed
    print(f"\nbrowser-shaped checkout flow — {args.clients} signed-in browsers, gunicorn {args.workers} sync workers, PostgreSQL + Redis, "
          f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f})")
    print("  flow: product page, add to cart, cart, checkout form, place order, confirmation (6 requests)")
    if flows:
        print(f"  {rate:.1f} orders/s   flow p50 {statistics.median(flows) * 1000:.0f} ms   p95 {cb.pct(flows, 95):.0f} ms   "
              f"({len(flows)} orders in {elapsed:.1f} s)")
        print(f"  gunicorn CPU per order (6 requests): {cpu / len(flows) * 1000:.1f} ms; the browsers' own (this benchmark, on the same "
              f"CPUs): {client_cpu / len(flows) * 1000:.1f} ms")
    if oscar_result is None:
        print(f"  django-oscar 4.2: {OSCAR_CHECKOUTS_PER_S} checkouts/s, the constant OSCAR_CHECKOUTS_PER_S from an earlier machine, NOT "
              f"measured in this run (--oscar DIR or OSCAR_SOURCE measures it) → ratio {rate / OSCAR_CHECKOUTS_PER_S:.1f} × (goal ≥ 10 ×)")
    else:
        o = oscar_result
        print(f"  django-oscar 4.2 measured in this run, right after ours — {oscar.describe(oscar_info)}")
        print(f"    its flow: product page, add to basket, basket, checkout → shipping address, address form → shipping method "
              f"→ payment method → payment details, preview, place order, thank-you ({oscar.REQUESTS_PER_FLOW} requests), "
              f"{o['clients']} signed-in browsers, gunicorn {o['workers']} sync workers")
        for line in oscar.report(o, indent="    "):
            print(line)
        if o["rate"] and o["orders_match"]:
            print(f"  ratio to django-oscar 4.2 measured in this run: {rate:.1f} / {o['rate']:.1f} = {rate / o['rate']:.1f} × (goal ≥ 10 ×)")
            if flows and o["flows"]:
                ours, theirs = cpu / len(flows), o["cpu"] / len(o["flows"])
                print(f"  gunicorn CPU per order, theirs over ours (less moved by other work on the machine): "
                      f"{theirs * 1000:.0f} / {ours * 1000:.0f} ms = {theirs / ours:.1f} ×")
        else:
            print("  ratio to django-oscar 4.2: none (its flows did not complete, or its orders did not match its thank-you pages)")
    print(f"  failed flows: {len(problems)}" + (f" (e.g. {problems[:3]})" if problems else ""))
    print(f"  invariant violations: {len(violations)}")
    for v in violations[:10]:
        print(f"    {v}")


if __name__ == "__main__":
    main()
