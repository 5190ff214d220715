"""Site routes of the shop that are not storefront pages: the Stripe webhook and staff pages
(marketplace/staff_views.py)."""

from .staff_views import urlpatterns

__all__ = ["urlpatterns"]
