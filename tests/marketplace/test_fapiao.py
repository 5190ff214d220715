"""Employer fapiao requests (发票): the coordinator asks for a month's statement, the amount comes
from the statement; the supermarket records number, date and PDF; the statement shows the status;
bad input is refused with a message and writes nothing."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from core import roles
from marketplace.models import FapiaoRequest
from marketplace.services.cart import cart_item_set
from marketplace.services.checkout import checkout_submit
from marketplace.statements import StatementMonth
from tests.logistics.factories import SupermarketFactory, staff_at
from tests.marketplace.account_factories import coordinator_of
from tests.marketplace.factories import (
    EmployeeFactory,
    EmployerFactory,
    ProductFactory,
    allocation_year,
    stock_batch,
    use_provider,
)

pytestmark = pytest.mark.django_db

TAX_ID = "91610425MA6YH1234X"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def spent(monkeypatch):
    """An employer whose employee spent 240.00 of allocation this month, and its coordinator."""
    from marketplace.services.allocation import allocation_grant

    use_provider(monkeypatch, None)
    setting = allocation_year()
    employer = EmployerFactory()
    employee = EmployeeFactory(employer=employer)
    allocation_grant(employee=employee, year=setting.year)
    product = ProductFactory(price=Decimal("120.00"))
    stock_batch(product, 5)
    cart_item_set(employee=employee, product=product, quantity=2)
    checkout_submit(employee=employee)
    return employer, coordinator_of(employer)


def _month() -> str:
    return str(StatementMonth.of(timezone.localdate()))


def _request(client, **data):
    form = {"month": _month(), "title": "镇安县测试局", "tax_number": TAX_ID, "address": "镇安县永乐路1号 0914-5321234",
            "bank": "镇安县农行 6228480000000000000", **data}
    return client.post("/employer/fapiao/", form)


def test_a_coordinator_requests_a_fapiao_for_the_statement_amount_and_staff_record_it(client, spent):
    employer, coordinator = spent
    client.force_login(coordinator)

    response = _request(client)

    assert response.status_code == 302
    fapiao = FapiaoRequest.objects.get()
    assert (fapiao.employer, fapiao.amount, fapiao.status, fapiao.tax_number) == (employer, Decimal("240.00"), "requested", TAX_ID)
    assert "240.00" in client.get("/employer/fapiao/").content.decode()

    staff = staff_at(SupermarketFactory(), roles.SUPERMARKET_STAFF)
    client.force_login(staff)
    assert TAX_ID in client.get("/staff/fapiao/").content.decode()
    today = timezone.localdate().isoformat()
    recorded = client.post(f"/staff/fapiao/{fapiao.pk}/issue/", {
        "number": "24612000000012345678", "issued_on": today, "pdf": SimpleUploadedFile("f.pdf", PDF, "application/pdf")})
    assert recorded.status_code == 302
    fapiao.refresh_from_db()
    assert (fapiao.status, fapiao.fapiao_number, fapiao.issued_on.isoformat()) == ("issued", "24612000000012345678", today)

    client.force_login(coordinator)
    page = client.get("/employer/fapiao/").content.decode()
    assert "24612000000012345678" in page
    pdf = client.get(f"/fapiao/{fapiao.pk}/pdf/")
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF-")


@pytest.mark.parametrize(("data", "field"), [
    ({"tax_number": "12345"}, "tax_number"), ({"title": "  "}, "title"), ({"month": "2999-01"}, "month"), ({"month": "soon"}, "month"),
])
def test_bad_requests_are_refused_with_a_message_and_write_nothing(client, spent, data, field):
    _employer, coordinator = spent
    client.force_login(coordinator)

    response = _request(client, **data)

    assert response.status_code == 400
    assert f'id="f-{field}"' in response.content.decode() and "data-fapiao-errors" in response.content.decode()
    assert not FapiaoRequest.objects.exists()


def test_one_request_per_statement_and_none_for_a_month_with_nothing_owed(client, spent):
    _employer, coordinator = spent
    client.force_login(coordinator)
    assert _request(client).status_code == 302
    assert _request(client).status_code == 409
    last_month = StatementMonth.of(timezone.localdate()).previous()
    assert _request(client, month=str(last_month)).status_code == 400
    assert FapiaoRequest.objects.count() == 1


def test_staff_cannot_record_a_bad_fapiao_and_others_cannot_see_or_record_one(client, spent):
    employer, coordinator = spent
    client.force_login(coordinator)
    _request(client)
    fapiao = FapiaoRequest.objects.get()
    staff = staff_at(SupermarketFactory(), roles.SUPERMARKET_STAFF)
    client.force_login(staff)
    not_pdf = client.post(f"/staff/fapiao/{fapiao.pk}/issue/", {
        "number": "1234", "issued_on": (timezone.localdate() + datetime.timedelta(days=2)).isoformat(),
        "pdf": SimpleUploadedFile("f.pdf", b"hello", "application/pdf")})
    assert not_pdf.status_code == 400 and "8 digits" in not_pdf.content.decode() or "8位" in not_pdf.content.decode()
    fapiao.refresh_from_db()
    assert fapiao.status == "requested" and not fapiao.pdf

    other = coordinator_of(EmployerFactory())
    client.force_login(other)
    assert TAX_ID not in client.get("/employer/fapiao/").content.decode()
    assert client.post(f"/staff/fapiao/{fapiao.pk}/issue/", {"number": "12345678"}).status_code == 403
    client.force_login(EmployeeFactory(employer=employer).user)
    assert client.get("/employer/fapiao/").status_code == 403


def test_the_statement_shows_its_fapiao_status(client, spent):
    employer, coordinator = spent
    staff = staff_at(SupermarketFactory(), roles.SUPERMARKET_STAFF)
    client.force_login(staff)
    url = f"/staff/statements/?month={_month()}&employer={employer.pk}"
    assert "data-fapiao-status" in client.get(url).content.decode()
    client.force_login(coordinator)
    _request(client)
    fapiao = FapiaoRequest.objects.get()

    client.force_login(staff)
    requested = client.get(url).content.decode()
    client.post(f"/staff/fapiao/{fapiao.pk}/issue/", {
        "number": "12345678", "issued_on": timezone.localdate().isoformat(), "pdf": SimpleUploadedFile("f.pdf", PDF, "application/pdf")})
    issued = client.get(url).content.decode()

    assert f"#fapiao-{fapiao.pk}" in requested and "12345678" not in requested
    assert "12345678" in issued and f"/fapiao/{fapiao.pk}/pdf/" in issued


def test_the_coordinator_page_has_a_plain_title_and_its_months_table_once(client, spent):
    _employer, coordinator = spent
    client.force_login(coordinator)
    html = client.get("/employer/fapiao/").content.decode()
    title = html[html.index("<title>") + len("<title>"):html.index("</title>")]
    head = html[:html.index("</head>")]
    assert "<" not in title and "发票" in title
    assert html.count("data-fapiao-months") == 1 and "data-fapiao-months" not in head
