"""Core's models: a spreadsheet import run in the background (the upload, its progress and its
outcome; the import kinds belong to the apps, core.spreadsheet.register_import_kind), and the SMS
outbox (core/sms.py)."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.utils.translation import gettext_lazy as _


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
