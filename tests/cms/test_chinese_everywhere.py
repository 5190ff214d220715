"""Chinese everywhere: every page and download of the demo county, opened as each role in
zh-hans, shows none of the known leaks (codes, model reprs, constraint names, English headers)."""

from __future__ import annotations

import io
import re

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Model
from django.test import Client
from openpyxl import load_workbook

from logistics.models import Facility, Intake, PackedBatch
from marketplace.models import Order

pytestmark = pytest.mark.django_db

KNOWN_LEAKS = [
    "object (", "purchase_price_positive", "Constraint “", "type: sale", "status: completed", "403 Forbidden",
    "Not Found", ">intake<", ">shipping<", ">receiving<", ">transformation_output<", ">Grade<", "Created by",
]
# Headers that are the same in Chinese: units and abbreviations people read as they are.
ASCII_HEADERS_ALLOWED = {"kg", "SKU", "QR", "ID"}
_TH = re.compile(r"<th\b[^>]*>(.*?)</th>", re.S)
_TAG = re.compile(r"<[^>]+>")


def _visible(html: str) -> str:
    return re.sub(r"<(script|style|template)\b.*?</\1>", "", html, flags=re.S)


def _english_headers(html: str) -> list[str]:
    found = []
    for raw in _TH.findall(_visible(html)):
        text = " ".join(_TAG.sub(" ", raw).split())
        if text and text.isascii() and re.search(r"[A-Za-z]{2,}", text) and text not in ASCII_HEADERS_ALLOWED:
            found.append(text)
    return found


def _xlsx_problems(content: bytes) -> list[str]:
    problems = []
    wb = load_workbook(io.BytesIO(content))
    for ws in wb.worksheets:
        if ws.title.isascii() and re.search(r"[A-Za-z]{2,}", ws.title):
            problems.append(f"sheet title {ws.title!r}")
        for cell in next(ws.iter_rows(max_row=1, values_only=True), ()):
            if isinstance(cell, str) and cell.isascii() and re.search(r"[A-Za-z]{2,}", cell) and cell not in ASCII_HEADERS_ALLOWED:
                problems.append(f"{ws.title}: header {cell!r}")
        for row in ws.iter_rows(min_row=2, values_only=True):
            for cell in row:
                if isinstance(cell, str) and any(leak in cell for leak in ("object (", "purchase_price_positive")):
                    problems.append(f"{ws.title}: {cell!r}")
    return problems


def _check(client: Client, url: str, problems: list[str], *, method: str = "get", data=None, expect=(200,)) -> None:
    response = getattr(client, method)(url, data or {})
    where = f"{client.role} {method.upper()} {url}"
    if response.status_code not in expect:
        problems.append(f"{where}: status {response.status_code}")
        return
    kind = response.get("Content-Type", "")
    if "spreadsheetml" in kind:
        problems += [f"{where}: {p}" for p in _xlsx_problems(response.content)]
    elif kind.startswith("text/html"):
        html = response.content.decode()
        problems += [f"{where}: shows {leak!r}" for leak in KNOWN_LEAKS if leak in _visible(html)]
        problems += [f"{where}: English header {h!r}" for h in _english_headers(html)]


def _client(username: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.role = username
    if username != "anonymous":
        client.force_login(get_user_model().objects.get(username=username))
    return client


def test_every_model_has_a_str_of_its_own():
    ours = {"core", "households", "lovepoints", "logistics", "marketplace", "settlement", "accounts", "cms"}
    missing = [m._meta.label for m in apps.get_models() if m._meta.app_label in ours and m.__str__ is Model.__str__]
    assert missing == []


def test_no_page_or_download_of_the_demo_county_leaks_codes_or_english(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", households=40, stdout=io.StringIO())
    batch = PackedBatch.objects.order_by("pk").first()
    point_staff_point = Facility.objects.get(staff__user__username="point")
    lot = Intake.objects.filter(collection_point=point_staff_point).order_by("pk").first().lot
    order = Order.objects.order_by("pk").first()
    problems: list[str] = []

    anonymous = _client("anonymous")
    for url in ("/", "/money-flow/", f"/trace/{batch.code}/", "/accounts/login/", "/accounts/activate/", "/accounts/reset/",
                "/accounts/reset/code/"):
        _check(anonymous, url, problems)
    _check(anonymous, "/no-such-page/", problems, expect=(404,))
    _check(anonymous, "/trace/NO-SUCH-CODE/", problems, expect=(404,))

    employee = _client("employee")
    for url in ("/", "/cart/", "/orders/", "/allocation/"):
        _check(employee, url, problems)
    _check(employee, "/intake/", problems, expect=(403,))
    _check(employee, "/cash/", problems, expect=(403,))

    point = _client("point")
    for url in ("/intake/", "/intake/today/", f"/intake/{lot.code}/receipt/", "/intake/cash/"):
        _check(point, url, problems)

    station = _client("station")
    for url in ("/station/", "/station/dispatch/", "/station/pack/", "/station/loss/", f"/station/trace/?code={batch.code}",
                f"/station/batches/{batch.code}/", f"/api/v1/trace/{batch.code}/export.xlsx"):
        _check(station, url, problems)

    shop = _client("shop")
    for url in ("/staff/orders/", f"/staff/orders/{order.number}/", "/staff/statements/", "/staff/statements/export/"):
        _check(shop, url, problems)

    coordinator = _client("coordinator")
    _check(coordinator, "/staff/activation-codes/", problems)
    coordinator_employer = get_user_model().objects.get(username="coordinator").employer_coordinator.employer
    _check(coordinator, "/staff/activation-codes/issue/", problems, method="post", data={"employer": coordinator_employer.code, "format": "xlsx"})
    _check(coordinator, "/staff/activation-codes/issue/", problems, method="post",
           data={"employer": coordinator_employer.code, "format": "print"})

    county = _client("county")
    household = lot.household.number
    for url in (
        "/admin/", "/admin/snippets/households/household/", "/admin/snippets/households/village/", "/admin/snippets/households/township/",
        "/admin/snippets/logistics/facility/", "/admin/snippets/logistics/produce/", "/admin/snippets/logistics/grade/",
        "/admin/snippets/logistics/sku/", "/admin/snippets/marketplace/product/", "/admin/snippets/marketplace/employer/",
        "/admin/snippets/marketplace/employee/", "/admin/snippets/marketplace/allocationyear/", "/admin/purchaseprice/",
        "/admin/lot/", "/admin/packedbatch/", "/admin/shipment/", "/admin/watch_list/", "/admin/settlement/",
        "/admin/shop/allocations/", "/admin/households/export/", "/income/", "/income/?format=xlsx", f"/income/households/{household}/",
        f"/income/households/{household}/?format=xlsx", "/income/?produce=板栗", "/settlement/payouts/", "/settlement/payouts/?format=xlsx",
        "/cash/", f"/intake/cash/?point={point_staff_point.code}", f"/station/trace/?code={lot.code}", "/staff/activation-codes/",
    ):
        _check(county, url, problems)
    from logistics.models import PurchasePrice

    price = PurchasePrice.objects.order_by("pk").first()
    for url in (f"/admin/purchaseprice/inspect/{price.pk}/", f"/admin/lot/inspect/{lot.pk}/", f"/admin/packedbatch/inspect/{batch.pk}/"):
        _check(county, url, problems)
    grade = batch.sku.grade
    _check(county, "/admin/purchaseprice/new/", problems, method="post",
           data={"grade": grade.pk, "price_per_kg": "0", "effective_from": "2030-01-01"}, expect=(200,))

    assert problems == [], "\n".join(problems)
