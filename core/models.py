"""Core's models: a spreadsheet import run in the background (the upload, its progress and its
outcome; the import kinds belong to the apps, core.spreadsheet.register_import_kind), and the SMS
outbox (core/sms.py), and the personal-data access log (个人信息查阅记录): it lives in core because
every app shows personal data and writes here, and core imports no app (households and employees
are named by their numbers, as data)."""


from __future__ import annotations

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .ledger import AppendOnlyModel


def private_storage():
    """Uploads holding personal data: a storage no URL serves (settings.STORAGES["private"])."""
    return storages["private"]


class SpreadsheetImport(models.Model):
    """One uploaded import file and what became of it. Status changes go through
    core.services.spreadsheet_import_set_status (the table there)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Running")
        DONE = "done", _("Imported")
        REFUSED = "refused", _("Refused: nothing imported")
        FAILED = "failed", _("Stopped by an error: nothing imported")

    kind = models.CharField(_("kind"), max_length=30)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    upload = models.FileField(_("uploaded file"), storage=private_storage, upload_to="imports/%Y/%m/", blank=True)
    original_name = models.CharField(_("file name"), max_length=255)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    background = models.BooleanField(_("in the background"), default=False)
    rows_total = models.PositiveIntegerField(_("rows in the file"), null=True, blank=True)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    bad_row_count = models.PositiveIntegerField(_("refused rows"), default=0)
    problem_count = models.PositiveIntegerField(_("problems"), default=0)
    problems = models.JSONField(_("problems (the first ones)"), default=list, blank=True)
    report = models.FileField(_("bad-row report"), storage=private_storage, upload_to="imports/%Y/%m/", blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("spreadsheet import")
        verbose_name_plural = _("spreadsheet imports")
        indexes = [models.Index(fields=["kind", "status"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.original_name} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.REFUSED, self.Status.FAILED)

    @property
    def percent(self) -> int:
        """Share of the file read so far (reading is most of the work); 100 once finished."""
        if self.finished:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_read * 100 // self.rows_total)

    @property
    def writing(self) -> bool:
        return self.status == self.Status.RUNNING and bool(self.rows_total) and self.rows_read >= self.rows_total


class SmsMessage(models.Model):
    """A text message as the outbox backend "sent" it: what tests and the demo read instead of a
    phone. The HTTP backend does not store the text (the gateway keeps its own record)."""

    phone = models.CharField(_("mobile phone"), max_length=20, db_index=True)
    text = models.CharField(_("text"), max_length=500)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("text message")
        verbose_name_plural = _("text messages")

    def __str__(self) -> str:
        return f"{self.phone} · {self.text[:30]}"
class PersonalDataAccess(AppendOnlyModel):
    """One showing of unmasked personal data: who, when, how, whose, and from where.

    Append-only (core.ledger) and, on PostgreSQL, guarded by a trigger that refuses UPDATE and
    DELETE (migration 0001): an entry is never edited or removed.
    """

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed")
        EXPORT = "export", _("Excel export")
        PDF = "pdf", _("PDF")
        API = "api", _("API")

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    # Kept as data, with the username written beside it: a user account deleted later must
    # neither take its entries with it nor be refused deletion because of them.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
        verbose_name=_("user"),
    )
    username = models.CharField(_("username"), max_length=150, db_index=True)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices, db_index=True)
    path = models.CharField(_("page or address"), max_length=300)
    households = models.JSONField(_("households"), default=list, blank=True, help_text=_("Registry numbers."))
    employees = models.JSONField(
        _("employees"), default=list, blank=True, help_text=_("Employer code / staff number of each employee.")
    )
    filters = models.JSONField(_("filter"), default=dict, blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("personal-data access")
        verbose_name_plural = _("personal-data access log")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{timezone.localtime(self.at):%Y-%m-%d %H:%M:%S} {self.username} {self.get_action_display()}"

    @property
    def households_shown(self) -> str:
        """The numbers for a listing cell: the first few and how many more."""
        numbers = self.households or []
        if len(numbers) <= 3:
            return "、".join(numbers)
        return _("%(first)s and %(more)d more") % {"first": "、".join(numbers[:3]), "more": len(numbers) - 3}

    @property
    def at_shown(self) -> str:
        return f"{timezone.localtime(self.at):%Y-%m-%d %H:%M:%S}"

    @property
    def whose_shown(self) -> str:
        """Households, else employees, for a listing cell."""
        if self.households:
            return self.households_shown
        if self.employees:
            return _("employees %(numbers)s") % {"numbers": self.employees_shown}
        return ""

    @property
    def households_text(self) -> str:
        return " ".join(self.households or [])

    @property
    def employees_text(self) -> str:
        return " ".join(self.employees or [])

    @property
    def filters_text(self) -> str:
        return "; ".join(f"{k}={'、'.join(v) if isinstance(v, list) else v}" for k, v in (self.filters or {}).items())

    @property
    def action_label(self) -> str:
        return str(self.get_action_display())

    @property
    def employees_shown(self) -> str:
        numbers = self.employees or []
        if len(numbers) <= 3:
            return "、".join(numbers)
        return _("%(first)s and %(more)d more") % {"first": "、".join(numbers[:3]), "more": len(numbers) - 3}
