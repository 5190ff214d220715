"""Who may see which part of the shop (the access policy for marketplace/, see core.access).

============== ==================================================================================
role           sees
============== ==================================================================================
employee       their own employee record, employer, orders, cart and allocation ledger
supermarket    every employee order (it fulfils them), the employees and employers behind them
               (statements), the card-payment events; not the allocation ledger
county office  everything
============== ==================================================================================

Points and stations see nothing of the shop. An employer coordinator or canteen buyer is wired in
by extending these scopes (``employees_visible_to.extend(rule)``), not by a filter in a view.
"""

from __future__ import annotations

from core import roles
from core.access import Scope, scoped_perms
from logistics.access import staff_facility_of_kind
from logistics.models import Facility

from .models import AllocationEntry, Cart, Employee, Employer, Order, PaymentEvent, ProviderReconciliation


def supermarket_of(user) -> Facility | None:
    """The supermarket ``user`` works at as supermarket staff (None otherwise)."""
    return staff_facility_of_kind(user, Facility.Kind.SUPERMARKET)


def employee_of(user) -> Employee | None:
    """The employee record of ``user`` (None for anyone who is not an employee)."""
    if not user or not user.is_authenticated or not roles.has_role(user, roles.EMPLOYEE):
        return None
    try:
        return user.employee
    except Employee.DoesNotExist:
        return None


def _orders(user):
    if supermarket_of(user) is not None:
        return Order.objects.all()
    employee = employee_of(user)
    return None if employee is None else Order.objects.filter(employee=employee)


def _employees(user):
    if supermarket_of(user) is not None:
        return Employee.objects.all()
    employee = employee_of(user)
    return None if employee is None else Employee.objects.filter(pk=employee.pk)


def _employers(user):
    if supermarket_of(user) is not None:
        return Employer.objects.all()
    employee = employee_of(user)
    return None if employee is None else Employer.objects.filter(pk=employee.employer_id)


def _own_allocation(user):
    employee = employee_of(user)
    return None if employee is None else AllocationEntry.objects.filter(employee=employee)


def _own_cart(user):
    employee = employee_of(user)
    return None if employee is None else Cart.objects.filter(employee=employee)


def _payment_events(user):
    return PaymentEvent.objects.all() if supermarket_of(user) is not None else None


orders_visible_to = Scope(Order, _orders, name="orders_visible_to")
employees_visible_to = Scope(Employee, _employees, name="employees_visible_to")
employers_visible_to = Scope(Employer, _employers, name="employers_visible_to")
allocation_entries_visible_to = Scope(AllocationEntry, _own_allocation, name="allocation_entries_visible_to")
carts_visible_to = Scope(Cart, _own_cart, name="carts_visible_to")
payment_events_visible_to = Scope(PaymentEvent, _payment_events, name="payment_events_visible_to")
# the daily comparison with WeChat Pay / Alipay / Stripe: the county office's alone (no rule)
provider_reconciliations_visible_to = Scope(ProviderReconciliation, name="provider_reconciliations_visible_to")

for _scope in (orders_visible_to, employees_visible_to, employers_visible_to):
    scoped_perms(_scope)
