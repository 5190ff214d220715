"""Site routes of the shop that are not storefront pages: the Stripe webhook
(marketplace/payments/webhook.py), staff pages (marketplace/staff_views.py) and the counter
(marketplace/counter_views.py)."""

from .counter_views import urlpatterns as counter_urlpatterns
from .payments.notify import urlpatterns as notify_urlpatterns
from .payments.webhook import urlpatterns as webhook_urlpatterns
from .staff_views import urlpatterns as staff_urlpatterns

urlpatterns = webhook_urlpatterns + notify_urlpatterns + staff_urlpatterns + counter_urlpatterns

__all__ = ["urlpatterns"]
