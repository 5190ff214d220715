"""Activation and reset codes (stored as keyed hashes, never the code) and the assignment of an
employer coordinator to the one employer whose codes they hand out."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from marketplace.models import Employee, Employer


class EmployerCoordinator(models.Model):
    """A person at one employer (单位联络员) who hands out its employees' activation codes."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="employer_coordinator")
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="coordinators", verbose_name=_("employer"))

    class Meta:
        verbose_name = _("employer coordinator")
        verbose_name_plural = _("employer coordinators")

    def __str__(self) -> str:
        return f"{self.user.get_full_name() or self.user.get_username()} · {self.employer}"


class ActivationCode(models.Model):
    """A one-time code that lets an employee set their first password. Only the newest unused
    code of an employee works: issuing a new one revokes the others."""

    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="activation_codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("issued at"))
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("activation code")
        verbose_name_plural = _("activation codes")
        indexes = [models.Index(fields=["employee", "used_at", "revoked_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["employee"], condition=Q(used_at__isnull=True, revoked_at__isnull=True), name="one_open_activation_code_per_employee",
                violation_error_message=_("This employee already has an open activation code."),
            )
        ]

    def __str__(self) -> str:
        return _("Activation code of %(name)s") % {"name": self.employee.name}


class PasswordResetCode(models.Model):
    """A 6-digit code sent by SMS to reset a forgotten password: 10 minutes, 5 tries."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="password_reset_codes")
    phone = models.CharField(_("mobile phone"), max_length=11, db_index=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("sent at"))
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(_("wrong attempts"), default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("password reset code")
        verbose_name_plural = _("password reset codes")

    def __str__(self) -> str:
        return _("Password reset code for %(phone)s") % {"phone": self.phone}
