"""Admin hooks of the access policy (core/admin_access.py)."""

from wagtail import hooks

from .admin_access import ScopedSnippetDeleteBulkAction

# After Wagtail's own snippet bulk delete (order 0), so this one replaces it for every snippet.
hooks.register("register_bulk_action", ScopedSnippetDeleteBulkAction, order=100)
