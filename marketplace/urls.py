"""Site routes of the shop that are not storefront pages: the providers' webhook and notifications
(marketplace/payments/webhook.py, notify.py), staff pages (marketplace/staff_views.py), the counter
(marketplace/counter_views.py) and fapiao requests (marketplace/fapiao_views.py)."""

from .counter_views import urlpatterns as counter_urlpatterns
from .fapiao_views import urlpatterns as fapiao_urlpatterns
from .payments.notify import urlpatterns as notify_urlpatterns
from .payments.webhook import urlpatterns as webhook_urlpatterns
from .staff_views import urlpatterns as staff_urlpatterns

urlpatterns = webhook_urlpatterns + notify_urlpatterns + staff_urlpatterns + counter_urlpatterns + fapiao_urlpatterns

__all__ = ["urlpatterns"]
