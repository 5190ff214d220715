import datetime

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from core import roles
from households.models import Household, LabourClass, PovertyStatus, SubClass, Township, Village
from households.validators import id_check_digit


def valid_id_number(n: int, born: datetime.date = datetime.date(1975, 3, 14)) -> str:
    # A sequence number has three digits; past 1000 the birthday moves on, so numbers stay unique.
    born += datetime.timedelta(days=n // 1000)
    first17 = f"611025{born:%Y%m%d}{n % 1000:03d}"
    return first17 + id_check_digit(first17)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-relief-1")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            roles.ensure_role_groups()
            self.groups.add(Group.objects.get(name=extracted))
            if hasattr(self, "_relief_roles"):
                del self._relief_roles


class TownshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Township
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"611025{200 + n:03d}")
    name = factory.Sequence(lambda n: f"测试{n}镇")


class VillageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Village

    township = factory.SubFactory(TownshipFactory)
    code = factory.Sequence(lambda n: f"611025900{n:03d}")
    name = factory.Sequence(lambda n: f"测试{n}村")


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    number = factory.Sequence(lambda n: f"H{n:08d}")
    head_name = factory.Sequence(lambda n: f"户主{n}")
    id_number = factory.Sequence(valid_id_number)
    phone = factory.Sequence(lambda n: f"138{n:08d}")
    members = 3
    village = factory.SubFactory(VillageFactory)
    labour_class = LabourClass.ABLE
    sub_class = SubClass.ASSURED
    poverty_status = PovertyStatus.LIFTED
    lifted_year = 2018
    payout_account = factory.Sequence(lambda n: f"6217000011112{n:06d}")
