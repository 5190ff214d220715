"""Who may see which canteen records (the access policy for marketplace/canteens/, see core.access).

============== ==================================================================================
role           sees
============== ==================================================================================
canteen buyer  its own canteen: its budgets, orders, deliveries (and their sales), invoices; its
               employer
supermarket /  the canteen orders it is to deliver, their canteens, deliveries and invoices
station staff
county office  everything
============== ==================================================================================
"""

from __future__ import annotations

from core import roles
from core.access import Scope, is_signed_in, scoped_perms
from logistics.access import staff_facility
from logistics.models import Facility
from marketplace.access import employers_visible_to, orders_visible_to
from marketplace.models import Employer, Order

from .models import Canteen, CanteenBuyer, CanteenDelivery, CanteenInvoice, CanteenOrder


def canteen_of(user) -> Canteen | None:
    """The active canteen ``user`` buys for (None for anyone who is not a canteen buyer)."""
    if not is_signed_in(user) or not roles.has_role(user, roles.CANTEEN_BUYER):
        return None
    buyer = CanteenBuyer.objects.filter(user=user, canteen__active=True).select_related("canteen__employer").first()
    return None if buyer is None else buyer.canteen


def supplier_of(user) -> Facility | None:
    """The station or supermarket whose staff ``user`` is, the facility that delivers canteen orders."""
    facility = staff_facility(user)
    return facility if facility is not None and facility.kind != Facility.Kind.COLLECTION_POINT else None


def _canteens(user):
    canteen = canteen_of(user)
    if canteen is not None:
        return Canteen.objects.filter(pk=canteen.pk)
    facility = supplier_of(user)
    return None if facility is None else Canteen.objects.filter(orders__supplier=facility).distinct()


def _orders(user):
    canteen = canteen_of(user)
    if canteen is not None:
        return CanteenOrder.objects.filter(canteen=canteen)
    facility = supplier_of(user)
    return None if facility is None else CanteenOrder.objects.filter(supplier=facility)


def _deliveries(user):
    orders = _orders(user)
    return None if orders is None else CanteenDelivery.objects.filter(order__in=orders)


def _invoices(user):
    orders = _orders(user)
    return None if orders is None else CanteenInvoice.objects.filter(delivery__order__in=orders)


def _buyer_sales(user):
    canteen = canteen_of(user)
    return None if canteen is None else Order.objects.filter(canteen_delivery__order__canteen=canteen)


def _buyer_employer(user):
    canteen = canteen_of(user)
    return None if canteen is None else Employer.objects.filter(pk=canteen.employer_id)


canteens_visible_to = Scope(Canteen, _canteens, name="canteens_visible_to")
canteen_orders_visible_to = Scope(CanteenOrder, _orders, name="canteen_orders_visible_to")
canteen_deliveries_visible_to = Scope(CanteenDelivery, _deliveries, name="canteen_deliveries_visible_to")
canteen_invoices_visible_to = Scope(CanteenInvoice, _invoices, name="canteen_invoices_visible_to")
orders_visible_to.extend(_buyer_sales)
employers_visible_to.extend(_buyer_employer)

for _scope in (canteens_visible_to, canteen_orders_visible_to, canteen_deliveries_visible_to, canteen_invoices_visible_to):
    scoped_perms(_scope)


def may_record_payments(user) -> bool:
    """The supermarket (it issues the fapiao and receives the transfer) and the county office."""
    if roles.is_county_office(user):
        return True
    facility = supplier_of(user)
    return facility is not None and facility.kind == Facility.Kind.SUPERMARKET
