"""Signals that make cached storefront pages stale (see cms/cache.py)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_delete, post_save
from wagtail.signals import page_published, page_slug_changed, page_unpublished, post_page_move

from .cache import bump_catalogue_version, note_stock_moved, person_entry_forget


def _forget_user(sender, instance, **_kwargs) -> None:
    person_entry_forget(user_id=instance.pk)


def _forget_employee_user(sender, instance, **_kwargs) -> None:
    person_entry_forget(user_id=instance.user_id)


def _forget_group_members(sender, instance, action, pk_set=None, **_kwargs) -> None:
    if not action.startswith("post_"):
        return
    User = get_user_model()
    if isinstance(instance, User):
        person_entry_forget(user_id=instance.pk)
    else:  # a group's members changed from the group's side
        for user_id in pk_set or instance.user_set.values_list("pk", flat=True):
            person_entry_forget(user_id=user_id)


def connect() -> None:
    from wagtail.models import Page

    from logistics.signals import stock_moved

    stock_moved.connect(note_stock_moved, dispatch_uid="cms-cache-stock-moved")
    from logistics.models import BatchHoldEvent, BatchMovement, BatchStock, PackedBatch, QualityInspection
    from marketplace.models import Product
    from marketplace.settlement.models import MoneyFlowSnapshot

    for signal in (page_published, page_unpublished, page_slug_changed, post_page_move):
        signal.connect(bump_catalogue_version, dispatch_uid=f"cms-cache-{signal!r}")
    # A new money-flow snapshot changes the home page's figures: it shows the published ones at once.
    # Stock counters move with every sale: their badges may lag by the window (see cms.cache).
    for model in (BatchMovement, BatchStock):
        post_save.connect(note_stock_moved, sender=model, dispatch_uid=f"cms-cache-save-{model.__name__}")
    for model in (Product, PackedBatch, BatchHoldEvent, QualityInspection, MoneyFlowSnapshot):
        post_save.connect(bump_catalogue_version, sender=model, dispatch_uid=f"cms-cache-save-{model.__name__}")
    for model in (Product, Page):
        post_delete.connect(bump_catalogue_version, sender=model, dispatch_uid=f"cms-cache-delete-{model.__name__}")
    # Routes and "no page is restricted" are cached per catalogue version (cms.cache.route).
    from wagtail.models import PageViewRestriction

    for signal in (post_save, post_delete):
        signal.connect(bump_catalogue_version, sender=PageViewRestriction, dispatch_uid=f"cms-cache-restriction-{signal!r}")
    # A signed-in hit trusts the person entry (auth hash, employee, roles): whatever changes them drops it.
    from marketplace.models import Employee

    User = get_user_model()
    for model, handler in ((User, _forget_user), (Employee, _forget_employee_user)):
        post_save.connect(handler, sender=model, dispatch_uid=f"cms-person-save-{model.__name__}")
        post_delete.connect(handler, sender=model, dispatch_uid=f"cms-person-delete-{model.__name__}")
    m2m_changed.connect(_forget_group_members, sender=User.groups.through, dispatch_uid="cms-person-groups")
