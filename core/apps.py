from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Relief Market core"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from .roles import ensure_role_groups

        post_migrate.connect(ensure_role_groups, sender=self)
