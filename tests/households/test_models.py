import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from households.models import SUBCLASSES_OF, Household, LabourClass, PovertyStatus, SubClass

from .factories import HouseholdFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("labour, sub", [(c, s) for c, subs in SUBCLASSES_OF.items() for s in subs])
def test_each_class_accepts_its_own_two_sub_classes(labour, sub):
    household = HouseholdFactory(labour_class=labour, sub_class=sub)
    household.full_clean()


@pytest.mark.parametrize(
    "labour, sub",
    [
        (LabourClass.ABLE, SubClass.BOTTOM),
        (LabourClass.WEAK, SubClass.ASSURED),
        (LabourClass.NONE, SubClass.EXITABLE),
        (LabourClass.ABLE, SubClass.SAFETY_NET),
    ],
)
def test_a_sub_class_of_another_class_is_rejected_by_clean(labour, sub):
    household = HouseholdFactory.build(labour_class=labour, sub_class=sub, village=HouseholdFactory().village)
    with pytest.raises(ValidationError) as info:
        household.full_clean()
    assert "sub_class" in info.value.message_dict


def test_the_database_refuses_a_sub_class_of_another_class_even_when_python_is_bypassed():
    household = HouseholdFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Household.objects.filter(pk=household.pk).update(labour_class=LabourClass.NONE, sub_class=SubClass.ASSURED)
    household.refresh_from_db()
    assert household.labour_class == LabourClass.ABLE


def test_a_lifted_household_needs_its_year_and_one_in_poverty_has_none():
    village = HouseholdFactory().village
    lifted = HouseholdFactory.build(village=village, poverty_status=PovertyStatus.LIFTED, lifted_year=None)
    with pytest.raises(ValidationError) as info:
        lifted.full_clean()
    assert "lifted_year" in info.value.message_dict
    poor = HouseholdFactory.build(village=village, poverty_status=PovertyStatus.IN_POVERTY, lifted_year=2016)
    with pytest.raises(ValidationError):
        poor.full_clean()


def test_2014_2015_lifted_households_are_flagged_from_the_year():
    early = HouseholdFactory(lifted_year=2015)
    late = HouseholdFactory(lifted_year=2016)
    monitoring = HouseholdFactory(poverty_status=PovertyStatus.MONITORING, lifted_year=2014)
    assert early.flag_early_lifted and not late.flag_early_lifted and not monitoring.flag_early_lifted
    assert list(Household.objects.early_lifted()) == [early]
