"""Factories for the shop: products, employers, employees, stock on the supermarket's shelf."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

import factory
from django.db import transaction
from django.utils import timezone

from core import roles
from logistics.models import PackedBatch, PackingRun
from logistics.services.stock import batch_stock_receive
from marketplace.models import AllocationYear, Employee, Employer, Product
from tests.households.factories import UserFactory
from tests.logistics.factories import SkuFactory, StationFactory, SupermarketFactory

_batch_seq = itertools.count(1)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.SubFactory(SkuFactory)
    name = factory.LazyAttribute(lambda o: o.sku.name)
    price = Decimal("100.00")
    active = True


class EmployerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employer
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"E{n:04d}")
    name = factory.Sequence(lambda n: f"镇安县测试局{n}")
    office_address = "镇安县永乐街道"


class EmployeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employee

    user = factory.SubFactory(UserFactory, role=roles.EMPLOYEE)
    employer = factory.SubFactory(EmployerFactory)
    staff_number = factory.Sequence(lambda n: f"S{n:05d}")
    name = factory.Sequence(lambda n: f"职工{n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Through the service, so that every employee has its open membership as in production.
        from marketplace.services.employees import employee_create

        return employee_create(**kwargs)


def allocation_year(year: int | None = None, **fields) -> AllocationYear:
    year = year or timezone.localdate().year
    defaults = {"amount": Decimal("700.00"), "opens_on": datetime.date(year, 1, 1), "closes_on": datetime.date(year, 12, 31), **fields}
    setting, _created = AllocationYear.objects.update_or_create(year=year, defaults=defaults)
    return setting


def stock_batch(
    product: Product, units: int, *, days_ago: int = 10, passed: bool = True, facility=None, best_before: datetime.date | None = None
) -> PackedBatch:
    """A packed batch of ``product``'s SKU with ``units`` on the supermarket's shelf (good for a
    year after packing unless ``best_before`` says otherwise)."""
    station = StationFactory()
    facility = facility or SupermarketFactory()
    user = UserFactory()
    n = next(_batch_seq)
    packed_at = timezone.now() - datetime.timedelta(days=days_ago, seconds=n)
    run = PackingRun.objects.create(code=f"PR-T{n:06d}-{product.sku_id}", station=station, sku=product.sku, created_by=user, created_at=packed_at)
    batch = PackedBatch.objects.create(
        code=f"B-T{n:06d}-{product.sku_id}", sku=product.sku, station=station, packing_run=run, units=units,
        unit_weight_kg=product.sku.unit_weight_kg, best_before=best_before or (packed_at + datetime.timedelta(days=365)).date(), packed_at=packed_at,
        inspection_status=PackedBatch.Inspection.PASSED if passed else PackedBatch.Inspection.PENDING,
    )
    with transaction.atomic():
        batch_stock_receive(batch=batch, facility_id=facility.pk, units=units, reference_type="test", reference_code=batch.code)
    return batch


class FakeProvider:
    """A payment provider that records calls (the real Stripe one is tested by the payments work)."""

    name = "fake"

    def __init__(self, fail: bool = False):
        self.fail = fail
        self.checkouts: list[dict] = []
        self.refunds: list[dict] = []

    def create_checkout(self, *, order, amount, success_url, cancel_url, idempotency_key, client=None):
        from marketplace.payments.base import CheckoutSession

        if self.fail:
            raise ConnectionError("provider down")
        self.checkouts.append({"order": order.number, "amount": amount, "key": idempotency_key})
        return CheckoutSession(reference=f"cs_fake_{order.number}", url=f"https://pay.example/{order.number}")

    def refund(self, *, payment, amount, idempotency_key):
        self.refunds.append({"payment": payment.pk, "amount": amount, "key": idempotency_key})
        return f"re_fake_{len(self.refunds)}"

    def query(self, *, payment):
        return None


def use_provider(monkeypatch, *providers) -> None:
    """Make ``providers`` (FakeProviders with distinct names; ``None`` for none at all) the
    configured payment providers, as settings would: checkout offers them and every payment one
    of them took goes back to it."""
    from marketplace.payments import base

    by_name = {p.name: p for p in providers if p is not None}
    monkeypatch.setattr(base, "configured_providers", lambda: list(by_name))
    monkeypatch.setattr(base, "_instantiate", lambda name: by_name[name])
