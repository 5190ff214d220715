"""Signals that make cached storefront pages stale (see cms/cache.py)."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from wagtail.signals import page_published, page_slug_changed, page_unpublished, post_page_move

from .cache import bump_catalogue_version


def connect() -> None:
    from wagtail.models import Page

    from logistics.signals import stock_moved

    stock_moved.connect(bump_catalogue_version, dispatch_uid="cms-cache-stock-moved")
    from logistics.models import BatchHoldEvent, BatchMovement, BatchStock, PackedBatch, QualityInspection
    from marketplace.models import Product
    from marketplace.settlement.models import MoneyFlowSnapshot

    for signal in (page_published, page_unpublished, page_slug_changed, post_page_move):
        signal.connect(bump_catalogue_version, dispatch_uid=f"cms-cache-{signal!r}")
    # A new money-flow snapshot changes the home page's figures: it shows the published ones at once.
    for model in (Product, BatchMovement, BatchStock, PackedBatch, BatchHoldEvent, QualityInspection, MoneyFlowSnapshot):
        post_save.connect(bump_catalogue_version, sender=model, dispatch_uid=f"cms-cache-save-{model.__name__}")
    for model in (Product, Page):
        post_delete.connect(bump_catalogue_version, sender=model, dispatch_uid=f"cms-cache-delete-{model.__name__}")
