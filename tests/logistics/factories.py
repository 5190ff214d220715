"""Factories for the supply chain. Engineers add their own in further modules beside this one."""

import datetime
from decimal import Decimal

import factory

from households.models import Township, Village
from logistics.models import Facility, Grade, Produce, PurchasePrice, Sku, StaffAssignment
from tests.households.factories import TownshipFactory, UserFactory, VillageFactory


class ProduceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Produce
        django_get_or_create = ("code",)

    code = "chestnut"
    name = "板栗"
    category = Produce.Category.CHESTNUT


class GradeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Grade
        django_get_or_create = ("produce", "code")

    produce = factory.SubFactory(ProduceFactory)
    code = "grade1"
    name = "一级"
    rank = 2


class PurchasePriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PurchasePrice

    grade = factory.SubFactory(GradeFactory)
    price_per_kg = Decimal("12.00")
    effective_from = datetime.date(2020, 1, 1)


class SupermarketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Facility
        django_get_or_create = ("code",)

    kind = Facility.Kind.SUPERMARKET
    code = "SM-611025"
    name = "镇安县扶贫超市"


class StationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Facility
        django_get_or_create = ("code",)

    kind = Facility.Kind.SORTING_STATION
    township = factory.SubFactory(TownshipFactory)
    code = factory.LazyAttribute(lambda o: f"ST-{o.township.code}")
    name = factory.LazyAttribute(lambda o: f"{o.township.name}分拣站")
    ships_to = factory.SubFactory(SupermarketFactory)


class CollectionPointFactory(factory.django.DjangoModelFactory):
    """A point in a village, serving that village, shipping to its township's station."""

    class Meta:
        model = Facility
        skip_postgeneration_save = True

    kind = Facility.Kind.COLLECTION_POINT
    village = factory.SubFactory(VillageFactory)
    township = factory.LazyAttribute(lambda o: o.village.township)
    code = factory.Sequence(lambda n: f"CP-{n:05d}")
    name = factory.LazyAttribute(lambda o: f"{o.village.name}收购点")
    ships_to = factory.LazyAttribute(lambda o: StationFactory(township=o.township))

    @factory.post_generation
    def serves(self, create, extracted, **kwargs):
        villages = extracted if extracted is not None else [self.village]
        self.served_villages.add(*villages)


class SkuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sku
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.Sequence(lambda n: f"镇安板栗 2.5kg 礼盒 {n}")
    produce = factory.SubFactory(ProduceFactory)
    grade = factory.LazyAttribute(lambda o: GradeFactory(produce=o.produce))
    unit_weight_kg = Decimal("2.500")


def staff_at(facility: Facility, role: str, username: str | None = None):
    """A user with ``role`` assigned to ``facility``."""
    user = UserFactory(username=username, role=role) if username else UserFactory(role=role)
    StaffAssignment.objects.update_or_create(user=user, defaults={"facility": facility})
    return user


__all__ = [
    "CollectionPointFactory", "GradeFactory", "ProduceFactory", "PurchasePriceFactory", "SkuFactory",
    "StationFactory", "SupermarketFactory", "Township", "Village", "staff_at",
]
