"""The access policy's machinery: what a user may see or change, decided in one place per kind of
object and asked the same way by every entry point (admin lists and object views, HTML pages,
API views, traces, reports, exports).

Each app owns the scope of its own objects in ``<app>/access.py``: a :class:`Scope` per kind of
object (``households_visible_to``, ``lots_visible_to``…), called with a user, returns the
queryset of what that user may see. The county office (and a superuser) sees everything; every
other role sees what a rule registered for it lets through — nothing by default.

A higher app extends a lower app's scope for its own roles without the lower app importing it
(as ``logistics.selectors.trace.register_forward_extension`` does for the trace): households
cannot know which villages a collection point serves (that is logistics' data), so logistics
registers ``villages_visible_to.extend(staff_villages)``. New roles (employer coordinator,
canteen buyer, village staff) are wired in the same way, by one ``extend`` call each.

Object checks go through ``rules`` (``user.has_perm("households.view_household", household)``):
each app turns its scopes into object permissions with :func:`scoped_perms`, so Wagtail's
permission policies, DRF and templates ask Django's one ``has_perm`` question and get the scope's
answer. ``rules`` decides single objects; the scopes above filter whole lists in one query (a
predicate per row would not), which is why the predicates are fed by the scopes, not the other
way round.

core imports no app of ours: the scopes live in the apps, only the machinery is here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import rules
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db.models import Model, Q, QuerySet

from . import roles

ScopeRule = Callable[[Any], "QuerySet | None"]
"""``rule(user)``: the queryset this rule lets ``user`` see, or None when it does not apply to them."""

_model_backend = ModelBackend()


def is_signed_in(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


class Scope:
    """What each user may see of one model: everything for the county office, otherwise the union
    of what the registered rules return (nothing when none applies)."""

    def __init__(self, model: type[Model], *rules_: ScopeRule, name: str = ""):
        self.model = model
        self.name = name or f"{model._meta.label_lower}s_visible_to"
        self._rules: list[ScopeRule] = list(rules_)

    def extend(self, rule: ScopeRule) -> ScopeRule:
        """Add a rule (idempotent; usable as a decorator)."""
        if rule not in self._rules:
            self._rules.append(rule)
        return rule

    def retract(self, rule: ScopeRule) -> None:
        if rule in self._rules:
            self._rules.remove(rule)

    def _parts(self, user) -> list[QuerySet]:
        return [part for part in (rule(user) for rule in self._rules) if part is not None]

    def applies_to(self, user) -> bool:
        """Whether any rule (or the county office) gives ``user`` a view of this model at all:
        the admin shows a menu item only to the users it applies to."""
        if not is_signed_in(user):
            return False
        return roles.is_county_office(user) or bool(self._parts(user))

    def __call__(self, user) -> QuerySet:
        manager = self.model._default_manager
        if not is_signed_in(user):
            return manager.none()
        if roles.is_county_office(user):
            return manager.all()
        parts = self._parts(user)
        if not parts:
            return manager.none()
        if len(parts) == 1:
            return parts[0]
        condition = Q()
        for part in parts:
            condition |= Q(pk__in=part.values("pk"))
        return manager.filter(condition)

    def contains(self, user, obj_or_pk) -> bool:
        """Whether ``user`` may see this one object (a model instance or a primary key)."""
        pk = getattr(obj_or_pk, "pk", obj_or_pk)
        if pk is None:
            return False
        try:
            return self(user).filter(pk=pk).exists()
        except (ValueError, TypeError, ValidationError):  # a pk that cannot be one of these
            return False

    def get(self, user, **lookup):
        """The one object matching ``lookup`` that ``user`` may see, or None (callers answer 404)."""
        try:
            return self(user).filter(**lookup).first()
        except (ValueError, TypeError, ValidationError):
            return None

    def __repr__(self) -> str:
        return f"<Scope {self.name}>"


def holds_model_perm(user, codename: str) -> bool:
    """The user's role (group) grants ``codename`` on the model (asked of Django's ModelBackend
    directly: asking ``user.has_perm`` here would come back to these very rules)."""
    if not is_signed_in(user):
        return False
    return user.is_superuser or _model_backend.has_perm(user, codename)


def scoped_predicate(codename: str, scope: Scope) -> rules.Predicate:
    """``codename`` on one object: the role grants it on the model, and the object is in scope."""

    def in_scope(user, obj=None) -> bool:
        if obj is None:  # a model-level question: Django's ModelBackend answers it
            return False
        return holds_model_perm(user, codename) and scope.contains(user, obj)

    return rules.predicate(in_scope, name=f"{codename} in {scope.name}")


def scoped_perms(scope: Scope, actions: tuple[str, ...] = ("view", "change", "delete")) -> None:
    """Object permissions ``<app>.<action>_<model>`` answered by ``scope`` (idempotent)."""
    opts = scope.model._meta
    for action in actions:
        codename = f"{opts.app_label}.{action}_{opts.model_name}"
        rules.set_perm(codename, scoped_predicate(codename, scope))


def user_may(user, action: str, obj) -> bool:
    """``user.has_perm("<app>.<action>_<model>", obj)`` — the one object question every view asks."""
    if not is_signed_in(user):
        return False
    opts = obj._meta
    return user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}", obj)
