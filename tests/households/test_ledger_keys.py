"""The income ledger's household, reverses and author are checked by the database once per
statement (core/statement_keys.py), on PostgreSQL and SQLite alike: an entry names a household
that exists, reverses an entry that exists, is written by a user who exists; and none of those can
be deleted (PostgreSQL) or renumbered while an entry names it."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from households.models import Household, IncomeEntry
from households.services import income_entry_record, income_entry_reverse
from tests.households.factories import HouseholdFactory, UserFactory
from tests.refusals import refused

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry() -> IncomeEntry:
    return income_entry_record(
        household=HouseholdFactory(), kind="intake", amount=Decimal("12.30"), date=datetime.date(2026, 10, 1),
        source_type="lot", source_code="L-1",
    )


def new_entry(like: IncomeEntry, **changes) -> IncomeEntry:
    fields = {
        "household_id": like.household_id, "kind": like.kind, "amount": like.amount, "date": like.date,
        "source_type": "test", "source_code": "T-1",
    }
    return IncomeEntry(**{**fields, **changes})


def missing_id(model) -> int:
    return (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000


def test_an_entry_needs_a_household_that_exists(entry):
    before = IncomeEntry.objects.count()
    assert refused(lambda: new_entry(entry, household_id=missing_id(Household)).save())
    assert IncomeEntry.objects.count() == before


def test_an_entry_reverses_only_an_entry_that_exists(entry):
    assert refused(lambda: new_entry(entry, reverses_id=missing_id(IncomeEntry), reason="typo").save())


def test_an_entry_is_written_by_a_user_who_exists(entry):
    assert refused(lambda: new_entry(entry, author_id=missing_id(get_user_model())).save())


def test_a_many_row_append_with_one_bad_entry_writes_none(entry):
    before = IncomeEntry.objects.count()
    rows = [new_entry(entry), new_entry(entry, household_id=missing_id(Household))]
    assert refused(lambda: IncomeEntry.objects.bulk_create(rows))
    assert IncomeEntry.objects.count() == before
    IncomeEntry.objects.bulk_create([new_entry(entry), new_entry(entry)])
    assert IncomeEntry.objects.count() == before + 2


def test_what_an_entry_names_cannot_be_deleted(entry, on_postgres):
    # PostgreSQL only: SQLite leaves deletes to the models' PROTECT (core/statement_keys.py).
    clerk = UserFactory(username="clerk")
    reversal = income_entry_reverse(entry=entry, reason="录错了", author=clerk)
    household = Household.objects.get(pk=entry.household_id)
    for row in (household, clerk, entry):
        assert refused(lambda row=row: type(row).objects.filter(pk=row.pk)._raw_delete(row._state.db)), row
        assert type(row).objects.filter(pk=row.pk).exists()
    assert IncomeEntry.objects.filter(pk=reversal.pk).exists()


def test_a_household_with_entries_keeps_its_id_and_edits_freely(entry):
    assert refused(lambda: Household.objects.filter(pk=entry.household_id).update(id=missing_id(Household)))
    Household.objects.filter(pk=entry.household_id).update(head_name="改名")
    assert Household.objects.get(pk=entry.household_id).head_name == "改名"


def test_a_household_without_entries_can_still_be_deleted(entry):
    spare = HouseholdFactory()
    assert not refused(lambda: Household.objects.filter(pk=spare.pk)._raw_delete(spare._state.db))


def test_an_entry_is_reversed_at_most_once_whatever_writes_it(entry):
    income_entry_reverse(entry=entry, reason="录错了")
    # The service refuses a second reversal; the database refuses one written around it.
    assert refused(lambda: new_entry(entry, reverses_id=entry.pk, reason="again").save())
    assert IncomeEntry.objects.filter(reverses=entry).count() == 1
    # Entries that reverse nothing are not limited by it.
    IncomeEntry.objects.bulk_create([new_entry(entry), new_entry(entry)])


@pytest.mark.django_db(transaction=True)
def test_a_database_with_entries_can_still_be_emptied():
    """Django empties the database after this test (a flush: TRUNCATE on PostgreSQL, a DELETE per
    table in name order on SQLite, households before entries); a key that refused it would fail
    the test in its teardown."""
    income_entry_record(
        household=HouseholdFactory(), kind="intake", amount=Decimal("1.00"), date=datetime.date(2026, 1, 1),
        source_type="lot", source_code="L-FLUSH", author=UserFactory(username="flusher"),
    )
    assert IncomeEntry.objects.count() == 1
