from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Relief Market core"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        post_migrate.connect(_after_last_app_migrated, dispatch_uid="relief-role-groups")
        _connect_roles_cache()


def _connect_roles_cache() -> None:
    """Whatever changes a user's groups drops their cached roles (core.roles.role_names)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

    from .roles import roles_forget

    User = get_user_model()

    def user_changed(sender, instance, **_kwargs) -> None:
        roles_forget([instance.pk])

    def memberships_changed(sender, instance, action, reverse, pk_set=None, **_kwargs) -> None:
        if action not in ("post_add", "post_remove", "pre_clear", "post_clear"):
            return
        if isinstance(instance, User):
            roles_forget([instance.pk])
        elif pk_set:  # from the group's side: these users
            roles_forget(pk_set)
        else:  # a group cleared: its members, read before they go
            roles_forget(list(instance.user_set.values_list("pk", flat=True)))

    def group_deleted(sender, instance, **_kwargs) -> None:
        roles_forget(list(instance.user_set.values_list("pk", flat=True)))

    post_save.connect(user_changed, sender=User, weak=False, dispatch_uid="core-roles-user-save")
    post_delete.connect(user_changed, sender=User, weak=False, dispatch_uid="core-roles-user-delete")
    m2m_changed.connect(memberships_changed, sender=User.groups.through, weak=False, dispatch_uid="core-roles-groups")
    pre_delete.connect(group_deleted, sender=Group, weak=False, dispatch_uid="core-roles-group-delete")


def _after_last_app_migrated(sender, **kwargs) -> None:
    """post_migrate is sent once per app; the permissions of every app exist only after the last."""
    from django.apps import apps

    from .roles import ensure_role_groups

    with_models = [c for c in apps.get_app_configs() if c.models_module is not None]
    if sender is with_models[-1]:
        ensure_role_groups()
