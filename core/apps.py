from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Relief Market core"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        post_migrate.connect(_after_last_app_migrated, dispatch_uid="relief-role-groups")


def _after_last_app_migrated(sender, **kwargs) -> None:
    """post_migrate is sent once per app; the permissions of every app exist only after the last."""
    from django.apps import apps

    from .roles import ensure_role_groups

    with_models = [c for c in apps.get_app_configs() if c.models_module is not None]
    if sender is with_models[-1]:
        ensure_role_groups()
