"""The demo chain: facilities and logins in place, a season consistent with reconcile, stock at
the supermarket, and a second run that adds nothing."""

import io

import pytest

from households import demo as households_demo
from logistics import demo
from logistics.models import Facility, Intake, LotMovement, PackedBatch, PurchasePrice, Shipment, StaffAssignment
from logistics.reconcile import run_checks
from logistics.services.stock import sellable_stock_queryset

pytestmark = pytest.mark.django_db


def test_the_demo_chain_is_consistent_idempotent_and_stocks_the_supermarket():
    context = households_demo.seed(households=120, stdout=io.StringIO(), context={})
    result = demo.seed(households=120, stdout=io.StringIO(), context=context)
    sm = result["supermarket"]
    assert sm.kind == Facility.Kind.SUPERMARKET and len(result["skus"]) == 7
    assert Facility.objects.filter(kind=Facility.Kind.SORTING_STATION).count() == 15
    assert Facility.objects.filter(kind=Facility.Kind.COLLECTION_POINT).count() == len(context["villages"])

    users = context["users"]
    point = StaffAssignment.objects.get(user=users["point"]).facility
    assert point.kind == Facility.Kind.COLLECTION_POINT
    assert point.served_villages.filter(households__isnull=False).exists()
    assert StaffAssignment.objects.get(user=users["station"]).facility == point.ships_to
    assert StaffAssignment.objects.get(user=users["shop"]).facility == sm

    assert Intake.objects.count() == 120
    assert PackedBatch.objects.filter(inspection_status="passed").exists()
    assert sellable_stock_queryset(facility_id=sm.pk).exists()
    assert {k: v for k, v in run_checks().items() if v} == {}

    counts = [m.objects.count() for m in (Facility, PurchasePrice, Intake, LotMovement, Shipment, PackedBatch)]
    again = demo.seed(households=120, stdout=io.StringIO(), context=context)
    assert [m.objects.count() for m in (Facility, PurchasePrice, Intake, LotMovement, Shipment, PackedBatch)] == counts
    assert again["supermarket"] == sm
