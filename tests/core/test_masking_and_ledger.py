from decimal import Decimal

import pytest

from core import masking, roles
from core.ledger import AppendOnlyError
from households.models import IncomeEntry
from households.services import income_entry_record
from tests.households.factories import HouseholdFactory, UserFactory


def test_masks_keep_only_the_edges():
    assert masking.mask_id_number("612525198001011234") == "612525********1234"
    assert masking.mask_phone("13812345678") == "138****5678"
    assert masking.mask_account("6217000011112222") == "************2222"
    assert masking.mask_id_number("") == ""


@pytest.mark.django_db
def test_only_county_office_sees_personal_data_in_full():
    county = UserFactory(role=roles.COUNTY_OFFICE)
    point = UserFactory(role=roles.COLLECTION_POINT_STAFF)
    value = "612525198001011234"
    assert masking.shown_id_number(county, value) == value
    assert masking.shown_id_number(point, value) == "612525********1234"
    assert masking.shown_phone(None, "13812345678") == "138****5678"


@pytest.mark.django_db
def test_ledger_rows_can_be_neither_edited_nor_deleted():
    household = HouseholdFactory()
    entry = income_entry_record(
        household=household, kind="intake", amount="12.345", date="2026-09-01", source_type="lot", source_code="L1"
    )
    assert entry.amount == Decimal("12.35")  # rounded half-up by core.money
    entry.amount = 1
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        IncomeEntry.objects.filter(pk=entry.pk).update(amount=0)
    with pytest.raises(AppendOnlyError):
        IncomeEntry.objects.all().delete()
    assert IncomeEntry.objects.get(pk=entry.pk).amount == Decimal("12.35")


@pytest.mark.django_db
def test_role_groups_exist_with_their_permissions_after_migrate():
    from django.contrib.auth.models import Group

    county = Group.objects.get(name=roles.COUNTY_OFFICE)
    assert county.permissions.filter(codename="change_household").exists()
    assert county.permissions.filter(codename="access_admin").exists()
    assert not Group.objects.get(name=roles.EMPLOYEE).permissions.filter(codename="access_admin").exists()
