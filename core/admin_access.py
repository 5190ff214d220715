"""The access policy in the Wagtail admin: a listing, its search, filters and results fragment,
and every view of one object (edit, delete, inspect, history, usage, revisions, copy, the
chooser's "chosen" answer…) take their rows from the model's :class:`core.access.Scope`.

- :class:`ScopedPermissionPolicy` answers Wagtail's permission questions: a model action needs the
  role's model permission *and* a scope that applies to the user (so a menu item a role cannot
  use is not shown and its listing answers 403); an action on one object asks ``rules``
  (``user.has_perm(codename, obj)``, fed by the scope).
- :class:`ScopedViewSetMixin`, mixed into a ``SnippetViewSet`` or ``ModelViewSet`` with
  ``access_scope = <scope>`` (and ``list_select_related``): the index and the chooser list only in-scope rows, and every URL of
  the viewset that names an object (``<pk>``) answers 404 for an object outside the user's scope
  before Wagtail's view runs — so a view Wagtail adds in a later version is covered too.
- :class:`ScopedSnippetDeleteBulkAction` (registered in core/wagtail_hooks.py): bulk actions take
  their objects from the query string, not the URL; out-of-scope ids answer 404 there too.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.admin.utils import unquote
from django.http import Http404
from django.urls import URLPattern, URLResolver
from wagtail.permission_policies.base import ModelPermissionPolicy
from wagtail.permissions import policy_registry, register_permission_policy
from wagtail.snippets.bulk_actions.delete import DeleteBulkAction

from .access import Scope, is_signed_in

OBJECT_KWARGS = ("pk", "object_id")


class ScopedPermissionPolicy(ModelPermissionPolicy):
    """Model permissions of the role, narrowed to the scope; ``writable`` limits the actions the
    admin may take at all (rows written only by services are view-only)."""

    writable: tuple[str, ...] | None = None  # None: whatever the role's permissions allow

    def __init__(self, model, scope: Scope, writable: tuple[str, ...] | None = None):
        super().__init__(model)
        self.scope = scope
        if writable is not None:
            self.writable = writable

    def user_has_permission(self, user, action):
        if self.writable is not None and action in ("add", "change", "delete") and action not in self.writable:
            return False
        return is_signed_in(user) and super().user_has_permission(user, action) and self.scope.applies_to(user)

    def user_has_permission_for_instance(self, user, action, instance):
        if not self.user_has_permission(user, action):
            return False
        if user.is_superuser:
            return True
        return user.has_perm(self._get_permission_name(action), instance)

    def instances_user_has_any_permission_for(self, user, actions):
        if self.user_has_any_permission(user, actions):
            return self.scope(user)
        return self.model._default_manager.none()


def scope_guard(view, scope: Scope):
    """``view`` answering 404 when the object its URL names is outside the user's scope."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        pk = next((kwargs[name] for name in OBJECT_KWARGS if name in kwargs), None)
        if pk is not None and not scope.contains(request.user, unquote(str(pk))):
            raise Http404
        return view(request, *args, **kwargs)

    guarded.access_scope = scope
    return guarded


def guard_urlpatterns(patterns, scope: Scope) -> list:
    guarded = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            pattern.url_patterns[:] = guard_urlpatterns(pattern.url_patterns, scope)
            guarded.append(pattern)
        elif isinstance(pattern, URLPattern):
            guarded.append(URLPattern(pattern.pattern, scope_guard(pattern.callback, scope), pattern.default_args, pattern.name))
        else:
            guarded.append(pattern)
    return guarded


class _ScopedListMixin:
    access_scope: Scope | None = None
    list_select_related: tuple[str, ...] = ()

    def get_base_queryset(self):
        queryset = super().get_base_queryset()
        if self.list_select_related:
            queryset = queryset.select_related(*self.list_select_related)
        if self.access_scope is None:
            return queryset
        return queryset.filter(pk__in=self.access_scope(self.request.user).values("pk"))


class _ScopedChooserListMixin:
    access_scope: Scope | None = None

    def get_object_list(self):
        objects = super().get_object_list()
        return objects.filter(pk__in=self.access_scope(self.request.user).values("pk"))


def _with_scope(view_class, mixin, scope: Scope, **attrs):
    return type(f"Scoped{view_class.__name__}", (mixin, view_class), {"access_scope": scope, **attrs})


class ScopedViewSetMixin:
    """Mix before ``SnippetViewSet``/``ModelViewSet``; set ``access_scope`` (a core.access.Scope)
    and, for a model whose rows only services write, ``admin_writable`` (e.g. ``()``)."""

    access_scope: Scope
    admin_writable: tuple[str, ...] | None = None
    list_select_related: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        # The policy must be in place before Wagtail first asks for one (it would make a fallback).
        register_permission_policy(self.model, ScopedPermissionPolicy(self.model, self.access_scope, self.admin_writable))
        super().__init__(*args, **kwargs)
        self.index_view_class = _with_scope(
            self.index_view_class, _ScopedListMixin, self.access_scope, list_select_related=tuple(self.list_select_related)
        )

    def get_urlpatterns(self):
        return guard_urlpatterns(super().get_urlpatterns(), self.access_scope)

    @property
    def chooser_viewset(self):
        chooser = super().chooser_viewset
        scope = self.access_scope
        chooser.choose_view_class = _with_scope(chooser.choose_view_class, _ScopedChooserListMixin, scope)
        chooser.choose_results_view_class = _with_scope(chooser.choose_results_view_class, _ScopedChooserListMixin, scope)
        original = chooser.get_urlpatterns
        chooser.get_urlpatterns = lambda: guard_urlpatterns(original(), scope)
        return chooser


class ScopedSnippetDeleteBulkAction(DeleteBulkAction):
    """Wagtail's snippet bulk delete, taking its objects (``?id=``, or ``all`` of the listing)
    from the model's scope: an id outside it answers 404 before the confirmation page names it."""

    def _scope(self) -> Scope | None:
        policy = policy_registry.get_by_type(self.model)
        return policy.scope if isinstance(policy, ScopedPermissionPolicy) else None

    def get_all_objects_in_listing_query(self, parent_id):
        scope = self._scope()
        if scope is None:
            return super().get_all_objects_in_listing_query(parent_id)
        return scope(self.request.user).values_list("pk", flat=True)

    def get_actionable_objects(self):
        scope = self._scope()
        if scope is not None:
            ids = [i for i in self.request.GET.getlist("id") if i != "all"]
            if any(not scope.contains(self.request.user, unquote(i)) for i in ids):
                raise Http404
        return super().get_actionable_objects()
