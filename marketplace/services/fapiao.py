"""Employer fapiao requests (发票): an employer's coordinator asks for a fapiao for one month's
statement; the supermarket records the fapiao it issued (number, date, PDF). The amount is the
statement's (``statements.employer_statement``), never typed. Nothing talks to the tax system.

Who may: ``fapiao_may_request`` (the coordinator of that employer) and ``fapiao_may_issue``
(supermarket staff) — the one home of each rule, asked by every view.
"""

from __future__ import annotations

import datetime
import re

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import roles
from core.errors import ConflictError, DomainError, NotAllowed

from ..models import FapiaoRequest
from ..statements import StatementMonth, employer_statement

TAX_NUMBER = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{15}$|^[0-9A-HJ-NPQRTUWXY]{18}$|^[0-9A-Z]{20}$")
FAPIAO_NUMBER = re.compile(r"^\d{8}$|^\d{20}$")  # paper/electronic (8) or fully digital 全电发票 (20)
MAX_PDF_BYTES = 5 * 1024 * 1024


class FapiaoError(DomainError):
    code = "fapiao_invalid"


def fapiao_may_request(user, employer) -> bool:
    from ..accounts.selectors import coordinated_employer

    coordinated = coordinated_employer(user)
    return coordinated is not None and coordinated.pk == employer.pk


def fapiao_may_issue(user) -> bool:
    from logistics.access import is_supermarket_staff

    return is_supermarket_staff(user)


def fapiao_requests_visible_to(user):
    """The county office and supermarket staff see every request; a coordinator their employer's."""
    from ..accounts.selectors import coordinated_employer

    if roles.is_county_office(user) or fapiao_may_issue(user):
        return FapiaoRequest.objects.select_related("employer")
    employer = coordinated_employer(user)
    return FapiaoRequest.objects.filter(employer=employer) if employer else FapiaoRequest.objects.none()


def fapiao_request(*, user, employer, month: StatementMonth, title: str, tax_number: str, address: str = "", bank: str = "") -> FapiaoRequest:
    if not fapiao_may_request(user, employer):
        raise NotAllowed(_("Only the coordinator of %(employer)s may request its fapiao.") % {"employer": employer.name})
    problems = {}
    title, tax_number = (title or "").strip(), (tax_number or "").strip().upper()
    if not title:
        problems["title"] = _("Enter the fapiao title (the employer's registered name).")
    if not TAX_NUMBER.match(tax_number):
        problems["tax_number"] = _("The taxpayer ID must be the 18-character unified social credit code (or a 15- or 20-character ID).")
    if month > StatementMonth.of(timezone.localdate()):
        problems["month"] = _("A fapiao can only be requested for a month that has begun.")
    amount = employer_statement(employer=employer, month=month).owed
    if amount <= 0 and "month" not in problems:
        problems["month"] = _("Nothing is owed for %(month)s, so there is nothing to invoice.") % {"month": month}
    if problems:
        raise FapiaoError(" ".join(problems.values()), problems=list(problems.values()), problem_keys=problems)
    try:
        with transaction.atomic():
            return FapiaoRequest.objects.create(
                employer=employer, year=month.year, month=month.month, amount=amount, title=title, tax_number=tax_number,
                address=(address or "").strip()[:200], bank=(bank or "").strip()[:200], requested_by=user,
            )
    except IntegrityError:
        raise ConflictError(_("A fapiao for %(month)s has already been requested.") % {"month": month}) from None


def fapiao_record_issued(*, user, fapiao: FapiaoRequest, number: str, issued_on: datetime.date | None, pdf) -> FapiaoRequest:
    if not fapiao_may_issue(user):
        raise NotAllowed(_("Only supermarket staff record issued fapiao."))
    number = (number or "").strip()
    problems = {}
    if not FAPIAO_NUMBER.match(number):
        problems["number"] = _("The fapiao number has 8 digits (or 20 for a fully digital fapiao).")
    if issued_on is None or issued_on > timezone.localdate():
        problems["issued_on"] = _("Enter the date the fapiao was issued (not in the future).")
    if pdf is None:
        problems["pdf"] = _("Attach the fapiao as a PDF.")
    else:
        head = pdf.read(5)
        pdf.seek(0)
        if head != b"%PDF-" or pdf.size > MAX_PDF_BYTES:
            problems["pdf"] = _("The file must be a PDF of at most 5 MB.")
    if problems:
        raise FapiaoError(" ".join(problems.values()), problems=list(problems.values()), problem_keys=problems)
    with transaction.atomic():
        locked = FapiaoRequest.objects.select_for_update().get(pk=fapiao.pk)
        if locked.status == FapiaoRequest.Status.ISSUED:
            raise ConflictError(_("Fapiao %(number)s was already recorded for this request.") % {"number": locked.fapiao_number})
        locked.fapiao_number, locked.issued_on, locked.issued_by, locked.issued_at = number, issued_on, user, timezone.now()
        locked.status = FapiaoRequest.Status.ISSUED
        locked.pdf.save(f"fapiao-{locked.employer.code}-{locked.year}-{locked.month:02d}-{number}.pdf", pdf, save=False)
        locked.save()
    return locked


__all__ = ["FapiaoError", "fapiao_may_issue", "fapiao_may_request", "fapiao_record_issued", "fapiao_request", "fapiao_requests_visible_to"]
