"""Demo part of canteens: two work units' canteens with this year's budget and a 30 % reserved
share, the demo buyer ``canteen`` (教育局's canteen), orders delivered by the supermarket — one
in full and paid with its fapiao, one in part and unpaid — and a third still waiting."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from core import roles
from core.errors import DomainError
from logistics.selectors.stock import county_today, sellable_stock
from marketplace.models import Employer, Product

from .models import Canteen, CanteenBudget, CanteenBuyer
from .services import canteen_delivery_record, canteen_invoice_fapiao, canteen_invoice_paid, canteen_order_place

DEMO_PASSWORD = "relief-demo"


def _buyer(canteen: Canteen):
    User = get_user_model()
    user, created = User.objects.get_or_create(username="canteen", defaults={"first_name": "食堂采购员"})
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    roles.ensure_role_groups()
    user.groups.add(Group.objects.get(name=roles.CANTEEN_BUYER))
    CanteenBuyer.objects.update_or_create(user=user, defaults={"canteen": canteen})
    return user


@transaction.atomic
def seed(*, households: int = 2000, stdout=None, context: dict | None = None) -> dict:
    employers = list(Employer.objects.order_by("code")[:2])
    edu = Employer.objects.filter(code="ZA-EDU").first()
    if edu is not None:
        employers = [edu, *[e for e in employers if e.pk != edu.pk]][:2]
    if len(employers) < 2 or Canteen.objects.filter(code__startswith="CT-DEMO").exists():
        return {}
    User = get_user_model()
    county = User.objects.filter(username="county").first()
    shop = User.objects.filter(username="shop").first()
    year = county_today().year
    canteens = []
    for i, (employer, budget) in enumerate(zip(employers, (Decimal("480000.00"), Decimal("260000.00")), strict=True), 1):
        canteen = Canteen.objects.create(employer=employer, code=f"CT-DEMO-{i}", name=f"{employer.name}职工食堂",
                                         delivery_address=employer.office_address)
        CanteenBudget.objects.create(canteen=canteen, year=year, budget=budget, reserved_share=Decimal("30.00"), set_by=county)
        canteens.append(canteen)
    buyer = _buyer(canteens[0])
    if county is None or shop is None:
        return {}
    stock = list(sellable_stock().select_related("batch__sku")[:40])
    products = [p for p in Product.objects.filter(active=True, sku_id__in={s.batch.sku_id for s in stock}).order_by("pk")][:3]
    if not products:
        return {}
    supermarket = stock[0].facility
    today = county_today()
    now = timezone.now()
    plans = [  # canteen, who orders, lines, days ago delivered, (deliver units fraction), paid?
        (canteens[0], buyer, [(products[0], "units", "6")], 20, 1.0, True),
        (canteens[0], buyer, [(products[-1], "units", "8")], 6, 0.5, False),
        (canteens[1], county, [(products[0], "units", "4")], 3, 1.0, False),
        (canteens[0], buyer, [(products[0], "units", "2")], None, 0, False),
    ]
    for canteen, who, lines, days_ago, part, paid in plans:
        order = canteen_order_place(canteen=canteen, author=who, supplier=supermarket,
                                    delivery_date=(today + datetime.timedelta(days=2)).isoformat(),
                                    lines=[{"product": p.pk, "unit": u, "quantity": q} for p, u, q in lines])
        if days_ago is None:
            continue
        units = {line.pk: str(max(int(int(line.quantity) * part), 1)) for line in order.lines.all()}
        at = now - datetime.timedelta(days=days_ago)
        at = max(at, now.replace(month=1, day=1, hour=12))
        try:
            delivery = canteen_delivery_record(order=order, author=shop, units=units, at=at)
        except DomainError:  # demo stock ran short: the order stays open, which the screens show too
            continue
        if paid:
            canteen_invoice_fapiao(invoice=delivery.invoice, fapiao_number=f"6100{delivery.pk:08d}", author=shop)
            canteen_invoice_paid(invoice=delivery.invoice, amount=str(delivery.invoice.amount), bank_reference=f"ZA-BANK-{delivery.pk:05d}",
                                 author=shop, at=at + datetime.timedelta(days=5))
    if stdout:
        stdout.write(f"canteens: {len(canteens)} canteens, buyer 'canteen' for {canteens[0].name}")
    return {}
