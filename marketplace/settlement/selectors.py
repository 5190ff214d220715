"""Reads of settlement: runs, payout lists per township (who is owed what), what is still unpaid."""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy as _

from core import roles
from core.masking import can_see_personal_data, mask_account
from households.access import townships_visible_to
from households.models import Township

from .access import payouts_visible_to
from .models import Payout, SettlementRun


class PayoutFilterSet(django_filters.FilterSet):
    township = django_filters.ModelChoiceFilter(
        label=_("township"), field_name="household__village__township", queryset=Township.objects.all()
    )
    status = django_filters.ChoiceFilter(label=_("status"), choices=Payout.Status.choices)

    class Meta:
        model = Payout
        fields: list[str] = []


def payout_townships_for(user) -> list[int] | None:
    """Townships whose payout lists ``user`` may see: None = all (county office), [] = none."""
    if roles.is_county_office(user):
        return None
    if not payouts_visible_to.applies_to(user):
        return []
    return list(townships_visible_to(user).values_list("pk", flat=True))


def payouts(*, user, run: SettlementRun | None = None, filters: dict | None = None):
    """The payouts ``user`` may see (settlement/access.py), of ``run`` when given, filtered."""
    qs = payouts_visible_to(user).select_related("household__village__township", "run", "paid_by")
    if run is not None:
        qs = qs.filter(run=run)
    filterset = PayoutFilterSet(filters or {}, queryset=qs)
    qs = filterset.qs if filterset.is_valid() else qs.none()
    return qs.order_by("household__village__township__code", "household__village__code", "household__number")


def payout_rows(*, user, payouts_qs) -> list[dict]:
    """Rows for the page, Excel and PDF, with the account masked for anyone but the county office."""
    full = can_see_personal_data(user)
    rows = []
    for p in payouts_qs:
        h = p.household
        rows.append({
            "id": p.pk, "run": p.run.code, "township": h.village.township.name, "village": h.village.name,
            "number": h.number, "head_name": h.head_name, "bank": h.payout_bank,
            "account": h.payout_account if full else mask_account(h.payout_account),
            "amount": p.amount, "status": p.status, "status_label": p.get_status_display(),
            "method": p.get_method_display() if p.method else "", "paid_by": str(p.paid_by or ""), "paid_at": p.paid_at,
        })
    return rows


def payout_totals(payouts_qs) -> dict:
    agg = payouts_qs.order_by().aggregate(
        owed=Sum("amount"), unpaid=Sum("amount", filter=Q(status=Payout.Status.UNPAID)),
        paid=Sum("amount", filter=Q(status=Payout.Status.PAID)), n=Count("id"),
        n_unpaid=Count("id", filter=Q(status=Payout.Status.UNPAID)),
    )
    return {k: (v if v is not None else Decimal("0.00")) for k, v in agg.items()}


def unpaid_by_township(*, user) -> list[dict]:
    qs = payouts(user=user, filters={"status": Payout.Status.UNPAID})
    return list(
        qs.order_by().values("household__village__township__name", "household__village__township_id")
        .annotate(n=Count("id"), amount=Sum("amount")).order_by("household__village__township__name")
    )
