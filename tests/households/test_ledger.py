"""The household income ledger is append-only; corrections are reversing entries."""

import datetime
from decimal import Decimal

import pytest

from core.ledger import AppendOnlyError
from households.models import IncomeEntry, IncomeKind
from households.services import LedgerError, income_entry_record, income_entry_reverse

from .factories import HouseholdFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry():
    return income_entry_record(
        household=HouseholdFactory(),
        kind=IncomeKind.INTAKE,
        amount=Decimal("123.456"),
        date=datetime.date(2025, 10, 1),
        source_type="intake",
        source_code="LOT-1",
        produce="chestnut",
    )


def test_recording_rounds_to_the_fen(entry):
    assert entry.amount == Decimal("123.46")


def test_an_entry_cannot_be_edited_or_deleted(entry):
    entry.amount = Decimal("1.00")
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        IncomeEntry.objects.filter(pk=entry.pk).update(amount=Decimal("1.00"))
    with pytest.raises(AppendOnlyError):
        IncomeEntry.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.amount == Decimal("123.46")


def test_a_reversal_writes_a_negative_entry_with_reason_and_author(entry):
    clerk = UserFactory()
    reversal = income_entry_reverse(entry=entry, reason="重复录入", author=clerk)
    assert reversal.amount == Decimal("-123.46")
    assert reversal.reverses_id == entry.pk and reversal.reason == "重复录入" and reversal.author == clerk
    assert reversal.source_code == entry.source_code
    assert sum(e.amount for e in IncomeEntry.objects.filter(household=entry.household)) == Decimal("0.00")


def test_a_reversal_needs_a_reason(entry):
    with pytest.raises(LedgerError):
        income_entry_reverse(entry=entry, reason="  ")
    assert IncomeEntry.objects.count() == 1


def test_an_entry_is_reversed_once_and_a_reversal_is_never_reversed(entry):
    reversal = income_entry_reverse(entry=entry, reason="错账")
    with pytest.raises(LedgerError):
        income_entry_reverse(entry=entry, reason="again")
    with pytest.raises(LedgerError):
        income_entry_reverse(entry=reversal, reason="undo the undo")
    assert IncomeEntry.objects.count() == 2
