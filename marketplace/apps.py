from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = _("Marketplace")

    def ready(self) -> None:
        # The shop's reconciliation checks and the forward trace into order lines plug into
        # logistics' registries (logistics never imports the marketplace).
        from . import access, import_kinds, reconcile  # noqa: F401  (access registers the shop's scopes, core.access)

        reconcile.register()
        import_kinds.register()

        from core.landing import register_screens

        from .screens import coordinator_screens, supermarket_screens

        register_screens(supermarket_screens, rank=10)
        register_screens(coordinator_screens, rank=12)

        from django.db.models.signals import post_delete, post_save

        from .models import Employee
        from .shopper_card import forget_on_employee_save

        post_save.connect(forget_on_employee_save, sender=Employee, dispatch_uid="shopper-card-employee-save")
        post_delete.connect(forget_on_employee_save, sender=Employee, dispatch_uid="shopper-card-employee-delete")

        from django.core.signals import request_finished, request_started

        from .models import AllocationYear
        from .services.allocation import allocation_year_memo_end, allocation_year_memo_forget, allocation_year_memo_start

        request_started.connect(allocation_year_memo_start, dispatch_uid="allocation-year-memo-start")
        request_finished.connect(allocation_year_memo_end, dispatch_uid="allocation-year-memo-end")
        for signal in (post_save, post_delete):
            signal.connect(allocation_year_memo_forget, sender=AllocationYear, dispatch_uid=f"allocation-year-memo-{signal!r}")
