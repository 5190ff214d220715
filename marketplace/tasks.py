"""Celery tasks of the shop."""

# isort: off
from .payments.tasks import *  # noqa: F403  (payment-event tasks live beside the provider)

from celery import shared_task
from celery.schedules import crontab

from .payments import tasks as payment_tasks
# isort: on


@shared_task
def allocations_grant_year_task(year: int | None = None) -> int:
    """Grant ``year``'s allocation (this year by default) to every active employee; safe to run
    twice: an employee already granted is skipped (the ledger's idempotency key)."""
    from .services.allocation import allocation_grant_year, allocation_today

    return allocation_grant_year(year=year or allocation_today().year)


@shared_task
def allocations_expire_due_task() -> int:
    """Close every year whose spending window has ended: expire or carry over what is left."""
    from .services.allocation import allocation_expire_due

    return allocation_expire_due()


@shared_task
def orders_release_unpaid_task() -> int:
    """Release card orders still unpaid 30 minutes after checkout (a sweep, not a countdown)."""
    from .services.orders import orders_release_unpaid

    return orders_release_unpaid()


@shared_task
def refunds_send_pending_task() -> int:
    """Retry card refunds that the provider did not confirm after commit."""
    from .services.orders import refunds_send_pending

    return refunds_send_pending()


BEAT_SCHEDULE = {
    **payment_tasks.BEAT_SCHEDULE,  # the payment work's periodic tasks live beside the provider
    "marketplace-allocations-expire-due": {
        "task": "marketplace.tasks.allocations_expire_due_task",
        "schedule": crontab(minute=5, hour=0),  # daily 00:05, before the new year's grant
    },
    "marketplace-allocations-grant-year": {
        "task": "marketplace.tasks.allocations_grant_year_task",
        "schedule": crontab(minute=30, hour=0, day_of_month=1, month_of_year=1),  # 1 January
    },
    "marketplace-refunds-send-pending": {
        "task": "marketplace.tasks.refunds_send_pending_task",
        "schedule": crontab(minute="*/15"),
    },
    "marketplace-orders-release-unpaid": {
        "task": "marketplace.tasks.orders_release_unpaid_task",
        "schedule": crontab(minute="*/5"),
    },
}


@shared_task
def order_notice_task(order_id: int, status: str) -> None:
    """Tell the employee their order is ready for pickup or out for delivery (once)."""
    from .services.notices import order_notice_send

    order_notice_send(order_id=order_id, status=status)
