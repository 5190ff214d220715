"""Site routes of settlement: payout lists and marking payouts paid (the run admin is in wagtail_hooks)."""

from django.urls import path

from . import views

urlpatterns = [
    path("settlement/payouts/", views.payout_list, name="payout-list"),
    path("settlement/runs/<str:code>/payouts/", views.payout_list, name="run-payout-list"),
    path("settlement/payouts/<int:pk>/paid/", views.payout_paid, name="payout-paid"),
]
