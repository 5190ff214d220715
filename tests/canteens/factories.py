"""Canteens with budgets and buyers, and stock for them to buy (through the real chain, so the
batches carry household shares and settlement can attribute deliveries)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from core import roles
from logistics.selectors.stock import county_today
from logistics.services.batches import batch_inspect
from logistics.services.shipments import shipment_dispatch, shipment_receive
from marketplace.canteens.models import Canteen, CanteenBudget, CanteenBuyer
from tests.households.factories import UserFactory
from tests.marketplace.factories import EmployerFactory, ProductFactory


def canteen(code: str = "CT-1", *, employer=None, budget="100000.00", share="30.00", year=None) -> Canteen:
    employer = employer or EmployerFactory(code=f"E-{code}", name=f"单位{code}")
    c = Canteen.objects.create(employer=employer, code=code, name=f"{employer.name}食堂")
    CanteenBudget.objects.create(canteen=c, year=year or county_today().year, budget=Decimal(budget), reserved_share=Decimal(share))
    return c


def buyer(c: Canteen):
    user = UserFactory(role=roles.CANTEEN_BUYER)
    CanteenBuyer.objects.create(user=user, canteen=c)
    return user


def at_supermarket(chain, units=4, days=90):
    """A batch of the chain's SKU packed, passed and received whole at the supermarket."""
    lots = chain.lots_at_station(1, weight_kg="10")
    batch = chain.pack([(lots[0], "10")], units=units, best_before=county_today() + datetime.timedelta(days=days))
    batch_inspect(batch=batch, passed=True, inspector=chain.county)
    out = shipment_dispatch(origin=chain.station, lines=[(batch, batch.units)], author=chain.station_staff)
    shipment_receive(shipment=out, received={}, loss_reasons={}, author=chain.shop_staff)
    return batch


def product_of(chain, price="33.33"):
    return ProductFactory(sku=chain.sku, name=chain.sku.name, price=Decimal(price))
