"""Access-walk declarations of routes that are not one app's: Wagtail's own admin (the CMS,
images, documents, users, groups, settings, workflows — the county office's) and the Django
admin (superusers only). Pattern: tests/access_routes.py."""

from tests.access_routes import Obj, Open

# The page tree is the public storefront: Wagtail's own page permissions guard every change, and
# a few of its page views (move confirmation, page chooser, revisions) answer any admin user.
PAGES = Obj("page", readable=True)
WAGTAIL_CMS = (
    "wagtailadmin_workflows", "wagtailadmin_collections", "wagtailimages", "wagtailimages_chooser", "wagtaildocs", "wagtaildocs_chooser",
    "wagtailsites", "wagtailsettings", "wagtailforms", "wagtailredirects",
)

ROUTES = {
    **{f"{namespace}:*": Obj("page") for namespace in WAGTAIL_CMS},
    "wagtailadmin_pages:*": PAGES,
    "wagtailadmin_api:*": PAGES,
    "wagtailadmin_editing_sessions:*": PAGES,
    "wagtailadmin_explore": PAGES,
    "wagtailadmin_explore_results": PAGES,
    "wagtailadmin_choose_page_child": PAGES,
    "personal_data_access:*": Obj("access_log_entry"),
    "wagtailusers_users:*": Obj("user"),
    "wagtailusers_groups:*": Obj("user"),
    # bulk actions take their objects from ?id=: a household outside the role's scope
    "wagtail_bulk_action": Obj(
        "household", lambda h: {"app_label": "households", "model_name": "household", "action": "delete"},
        query=lambda h: {"id": h.pk},
    ),
    "admin:app_list": Obj("admin_user", lambda u: {"app_label": "auth"}),
    "admin:view_on_site": Obj("admin_user", lambda u: {"content_type_id": 1, "object_id": u.pk}),
    "admin:*": Obj("admin_user"),
    "/django-admin/": Obj("admin_user"),
    "wagtailadmin_password_reset_confirm": Open("a password-reset link names no record; its token is checked"),
    "wagtailcore_authenticate_with_password": Open("the password form of a private page, for anyone holding the link"),
    "wagtaildocs_authenticate_with_password": Open("the password form of a private document, for anyone holding the link"),
    "wagtailadmin_tag_model_autocomplete": Open("tag names of a model, no record of anyone's scope"),
    "spreadsheet_import_progress": Obj("spreadsheet_import"),
    "spreadsheet_import_status": Obj("spreadsheet_import"),
    "spreadsheet_import_report": Obj("spreadsheet_import"),
    "wagtaildocs_serve": Open("documents are served under Wagtail's own collection privacy"),
}
