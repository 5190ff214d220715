"""Every HTML form a demo role can reach, filled with hostile values: never a 5xx, and a refusal
writes nothing.

As each role, the test opens the pages that role works on (on the seeded demo county), finds
their <form>s and fields, and submits generated values — huge numbers, Unicode digits that are
not ASCII, NUL and control characters, empty, long text, dates out of range, real option values
mixed in — with hypothesis (fixed seed, bounded examples). Each answer must be below 500; when it
is a refusal (a 4xx, a POST answered with the form again, or a redirect carrying only an error
message) the row count of every domain table is what it was before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.messages import constants, get_messages
from django.test import Client
from django.urls import resolve
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from cms.models import CategoryPage, ProductPage
from logistics.models import Facility, Intake, PackedBatch, Shipment, Sku
from marketplace.models import Order

pytestmark = pytest.mark.django_db

EXAMPLES_PER_FORM = 8
SEED = 20261203
DOMAIN_APPS = ("households", "logistics", "marketplace", "settlement", "lovepoints")

HOSTILE = st.sampled_from([
    "", " ", "0", "-1", "-0.001", "1e25", "1E400", "NaN", "Infinity", "-inf", "③", "2⁰¹⁶", "²", "１２", "٣", "Ⅻ",
    "\x00", "a\x00b", "\x1b[2J", "9" * 40, str(2**63), str(2**31), "1.23456789", "12,5", "0001-01-01", "9999-12-31",
    "2100-12", "2100-12-31", "2026-02-30", "x" * 5000, "<script>", "' OR 1=1 --",
])
ANY_TEXT = st.text(max_size=40)
NUMBERS = st.one_of(st.integers().map(str), st.decimals(allow_nan=True, allow_infinity=True).map(str), st.floats().map(repr))


@dataclass
class Form:
    page: str
    action: str
    method: str
    fields: dict[str, list[str]] = field(default_factory=dict)  # name -> values seen (options, defaults)


class FormParser(HTMLParser):
    def __init__(self, page: str):
        super().__init__()
        self.page, self.forms, self._form, self._select = page, [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            action = urljoin(self.page, a.get("action") or self.page)
            self._form = Form(page=self.page, action=action, method=(a.get("method") or "get").lower())
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag in ("input", "button", "textarea") and a.get("name"):
            if a.get("type") in ("file",):
                return
            self._form.fields.setdefault(a["name"], []).append(a.get("value") or "")
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self._form.fields.setdefault(a["name"], [])
        elif tag == "option" and self._select:
            self._form.fields[self._select].append(a.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def forms_on(client: Client, url: str) -> list[Form]:
    response = client.get(url)
    assert response.status_code < 500, f"GET {url}: {response.status_code}"
    if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
        return []
    parser = FormParser(url)
    parser.feed(response.content.decode())
    own = [f for f in parser.forms if not urlsplit(f.action).netloc or urlsplit(f.action).netloc == "testserver"]
    return [f for f in own if not urlsplit(f.action).path.startswith(("/accounts/logout", "/i18n/"))]


def domain_counts() -> dict[str, int]:
    # Access logs (who looked at personal data) are written by reads by design; they are not domain state.
    return {
        m._meta.label: m._default_manager.count()
        for m in apps.get_models()
        if m._meta.app_label in DOMAIN_APPS and "access" not in m._meta.model_name
    }


def refused(response, method: str) -> bool:
    if response.status_code >= 400:
        return True
    if method == "post" and response.status_code == 200:
        return True  # a form answered with itself: its errors
    if response.status_code in (301, 302, 303):
        levels = {m.level for m in get_messages(response.wsgi_request)}
        return constants.ERROR in levels and constants.SUCCESS not in levels
    return False


def field_values(name: str, seen: list[str]):
    real = [v for v in seen if v is not None]
    choices = [st.sampled_from(real)] if real else []
    if name == "csrfmiddlewaretoken":
        return st.sampled_from(real or [""])
    return st.one_of(*choices, HOSTILE, NUMBERS, ANY_TEXT)


def pages_of(role: str) -> list[str]:
    """The pages each role works on, with real codes from the demo county."""
    station = Facility.objects.filter(staff__user__username="station").first() if role == "station" else None
    shop = Facility.objects.filter(kind=Facility.Kind.SUPERMARKET).first()
    if role == "point":
        lot = Intake.objects.filter(staff__username="point").select_related("lot").first()
        return ["/intake/", "/intake/today/", "/intake/?q=1"] + ([f"/intake/{lot.lot.code}/receipt/"] if lot else [])
    if role == "station":
        batch = PackedBatch.objects.filter(station=station).first() if station else PackedBatch.objects.first()
        sku = Sku.objects.filter(batches__station=station).first() if station else Sku.objects.first()
        incoming = Shipment.objects.filter(destination=station, status=Shipment.Status.DISPATCHED).first()
        pages = ["/station/", "/station/dispatch/", "/station/pack/", "/station/loss/", "/station/trace/"]
        pages += [f"/station/pack/?sku={sku.pk}"] if sku else []
        pages += [f"/station/batches/{batch.code}/"] if batch else []
        pages += [f"/station/shipments/{incoming.code}/receive/"] if incoming else []
        return pages
    if role == "shop":
        orders = [Order.objects.filter(status=s).first() for s in (Order.Status.PAID, Order.Status.COMPLETED, Order.Status.READY_FOR_PICKUP)]
        incoming = Shipment.objects.filter(destination=shop, status=Shipment.Status.DISPATCHED).first()
        pages = ["/staff/orders/", "/staff/statements/", "/station/", "/station/loss/"]
        pages += [f"/staff/orders/{o.number}/" for o in orders if o]
        pages += [f"/station/shipments/{incoming.code}/receive/"] if incoming else []
        return pages
    if role == "employee":
        product = ProductPage.objects.live().first()
        category = CategoryPage.objects.live().first()
        order = Order.objects.filter(employee__user__username="employee").first()
        pages = ["/cart/", "/checkout/", "/orders/", "/allocation/"]
        pages += [product.url] if product else []
        pages += [category.url] if category else []
        pages += [f"/orders/{order.number}/"] if order else []
        return pages
    month = timezone.localdate().strftime("%Y-%m")
    if role == "village":
        return ["/love-points/", f"/love-points/review/{month}/", "/love-points/redeem/", "/love-points/goods/",
                "/love-points/goods/stocktake/", "/love-points/report/"]
    return ["/income/", "/settlement/payouts/", "/station/trace/", "/station/", "/money-flow/", "/love-points/approvals/",
            "/love-points/rules/", "/love-points/report/"]


def fuzz_form(client: Client, form: Form, problems: list[str]) -> int:
    strategy = st.fixed_dictionaries({name: field_values(name, seen) for name, seen in form.fields.items()})
    made = 0

    @seed(SEED)
    @settings(max_examples=EXAMPLES_PER_FORM, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(data=strategy)
    def submit(data):
        nonlocal made
        before = domain_counts()
        send = client.post if form.method == "post" else client.get
        response = send(urlsplit(form.action).path + (f"?{urlsplit(form.action).query}" if urlsplit(form.action).query else ""), data)
        made += 1
        where = f"{form.method.upper()} {form.action} {data!r:.300}"
        if response.status_code >= 500:
            problems.append(f"{response.status_code}: {where}")
        elif (form.method == "get" or refused(response, form.method)) and domain_counts() != before:
            changed = {k: (before[k], v) for k, v in domain_counts().items() if before.get(k) != v}
            problems.append(f"refused ({response.status_code}) but wrote {changed}: {where}")

    submit()
    return made


@pytest.mark.parametrize("role", ["point", "station", "shop", "employee", "county", "village"])
def test_no_form_a_role_can_reach_answers_hostile_input_with_a_server_error_or_a_write(demo_county, role):
    client = Client(raise_request_exception=False)
    client.force_login(get_user_model().objects.get(username=role))
    forms: dict[tuple, Form] = {}
    for page in pages_of(role):
        for form in forms_on(client, page):
            # one of each kind: a list of 40 payouts has 40 "mark paid" forms of one view
            forms.setdefault((form.method, resolve(urlsplit(form.action).path).view_name, tuple(sorted(form.fields))), form)
    assert forms, f"{role} reaches no form"
    problems: list[str] = []
    made = sum(fuzz_form(client, form, problems) for form in forms.values())
    assert made >= len(forms)
    assert not problems, "\n".join(dict.fromkeys(problems))
