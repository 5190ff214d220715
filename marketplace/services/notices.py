"""Telling employees their order is ready: a notice on "我的订单" and a text message.

``order_notice_on_commit(order, status)`` is the one-line hook the order status service calls;
after the commit a Celery task (``marketplace.tasks.order_notice_task``) calls
``order_notice_send``, which is safe to run twice (one notice per order and status).
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from core.sms import sms_send_on_commit

from ..models import Order, OrderNotice

NOTIFIED = {Order.Status.READY_FOR_PICKUP: OrderNotice.Kind.READY_FOR_PICKUP, Order.Status.OUT_FOR_DELIVERY: OrderNotice.Kind.OUT_FOR_DELIVERY}


def order_notice_on_commit(order: Order, status: str) -> None:
    """Queue the notice when ``status`` is one the employee is told about (ready, delivering)."""
    if status not in NOTIFIED:
        return
    from ..tasks import order_notice_task

    order_id = order.pk
    transaction.on_commit(lambda: order_notice_task.delay(order_id, str(status)))


def notice_text(order: Order, kind: str) -> str:
    if kind == OrderNotice.Kind.READY_FOR_PICKUP:
        return _("[Zhen'an Relief Market] Your order %(number)s is ready. Pick it up at the poverty-relief supermarket.") % {
            "number": order.number
        }
    employer = order.employee.employer if order.employee is not None else None
    address = (employer.office_address or employer.name) if employer is not None else ""
    return _("[Zhen'an Relief Market] Your order %(number)s is on its way to %(address)s.") % {
        "number": order.number, "address": address,
    }


def order_notice_send(*, order_id: int, status: str) -> OrderNotice | None:
    """Record the notice and text it (once); None when the order has moved on or was told already."""
    kind = NOTIFIED.get(status)
    if kind is None:
        return None
    order = Order.objects.select_related("employee__employer").filter(pk=order_id).first()
    if order is None or OrderNotice.objects.filter(order=order, kind=kind).exists():
        return None
    if order.employee is None:  # a counter sale or a canteen delivery: nobody waits for a text
        return None
    phone = order.employee.phone
    with translation.override(settings.LANGUAGE_CODE):
        text = notice_text(order, kind)
    try:
        with transaction.atomic():
            notice = OrderNotice.objects.create(order=order, kind=kind, text=text, texted_to=phone)
            if phone:
                sms_send_on_commit(phone, text)
    except IntegrityError:  # the same task ran twice at once: the other one told the employee
        return None
    return notice
