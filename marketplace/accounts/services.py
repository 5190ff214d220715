"""Writers of employee sign-in: issuing and redeeming activation codes, sending and redeeming
password-reset codes.

Codes are stored as keyed hashes (HMAC-SHA256 under SECRET_KEY): a copy of the database does not
give them away, and a code once shown cannot be shown again — a sheet of codes is made by issuing
fresh ones. Answers never tell whether a phone number belongs to anyone: an unknown phone and a
wrong code get the same message, and wrong attempts count against the phone either way.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.sms import sms_send_on_commit
from households.validators import normalise_phone, phone_problem
from marketplace.models import Employee, Employer

from .models import ActivationCode, PasswordResetCode

ACTIVATION_VALID = datetime.timedelta(days=30)
RESET_VALID = datetime.timedelta(minutes=10)
RESET_TRIES = 5
# Wrong activation codes per phone (and per client address) within the window, then a pause.
ACTIVATION_TRIES = 5
ATTEMPT_WINDOW = datetime.timedelta(minutes=15)
# Reset codes sent per phone within the window: a phone is not flooded with texts.
RESET_SENDS = 3


class AccountCodeError(DomainError):
    code = "account_code"


class InvalidPhone(AccountCodeError):
    field = "phone"


class CodeRefused(AccountCodeError):
    field = "code"


class TooManyAttempts(AccountCodeError):
    status = 429
    code = "too_many_attempts"


def _hash(purpose: str, code: str) -> str:
    return salted_hmac(f"relief.accounts.{purpose}", code, algorithm="sha256").hexdigest()


def normalise_code(raw) -> str:
    """What people type: spaces, dashes and full-width digits allowed."""
    from households.validators import normalise_text

    return "".join(ch for ch in normalise_text(raw) if ch.isdigit())


def phone_checked(raw) -> str:
    """The phone as digits, or InvalidPhone with the reason."""
    phone = normalise_phone(raw)
    problem = phone_problem(phone)
    if problem:
        raise InvalidPhone(problem)
    return phone


def _attempts_key(kind: str, who: str) -> str:
    return f"accounts:{kind}:{who}"


def _check_not_locked(keys: list[str], limit: int) -> None:
    if any((cache.get(key) or 0) >= limit for key in keys):
        raise TooManyAttempts(
            _("Too many wrong attempts. Wait %(minutes)d minutes and try again.") % {"minutes": ATTEMPT_WINDOW.seconds // 60}
        )


def _count_failure(keys: list[str]) -> None:
    for key in keys:
        if cache.add(key, 1, timeout=ATTEMPT_WINDOW.total_seconds()):
            continue
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=ATTEMPT_WINDOW.total_seconds())


# --- activation codes -----------------------------------------------------------------------------


def is_activated(employee: Employee) -> bool:
    return employee.user.has_usable_password()


def employees_not_activated(*, employer: Employer | None = None):
    """Active employees whose account has no usable password yet."""
    qs = Employee.objects.filter(active=True, user__password__startswith="!").select_related("employer", "user")
    if employer is not None:
        qs = qs.filter(employer=employer)
    return qs.order_by("employer__code", "staff_number")


def _new_activation_code() -> str:
    return f"{secrets.randbelow(10**8):08d}"


def format_activation_code(code: str) -> str:
    return f"{code[:4]} {code[4:]}"


@dataclass
class CodeRow:
    employer: str
    staff_number: str
    name: str
    phone: str
    code: str  # "" when the employee has no phone and cannot activate


@transaction.atomic
def activation_codes_issue(*, employer: Employer | None = None, author=None, now: datetime.datetime | None = None) -> list[CodeRow]:
    """Fresh codes for every not-yet-activated employee of ``employer`` (all employers when None)
    who has a phone; earlier unused codes stop working. Employees without a phone are listed
    with no code: they activate once their phone is on the employee list."""
    now = now or timezone.now()
    employees = list(employees_not_activated(employer=employer).select_for_update(of=("self",)))
    with_phone = [e for e in employees if e.phone]
    ActivationCode.objects.filter(
        employee__in=with_phone, used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    codes = {e.pk: _new_activation_code() for e in with_phone}
    ActivationCode.objects.bulk_create(
        [
            ActivationCode(
                employee=e, code_hash=_hash("activation", codes[e.pk]), created_at=now, expires_at=now + ACTIVATION_VALID, issued_by=author
            )
            for e in with_phone
        ],
        batch_size=500,
    )
    return [
        CodeRow(e.employer.name, e.staff_number, e.name, e.phone, format_activation_code(codes[e.pk]) if e.pk in codes else "")
        for e in employees
    ]


@transaction.atomic
def account_activate(*, phone: str, code: str, password: str, client: str = "", now: datetime.datetime | None = None):
    """Set the first password of the employee whose phone and open activation code these are;
    the code is spent. Returns the user. ``password`` has been through the password validators."""
    now = now or timezone.now()
    phone = phone_checked(phone)
    keys = [_attempts_key("activate", phone)] + ([_attempts_key("activate-client", client)] if client else [])
    _check_not_locked(keys, ACTIVATION_TRIES)
    digest = _hash("activation", normalise_code(code))
    candidates = (
        ActivationCode.objects.select_for_update()
        .filter(employee__phone=phone, employee__active=True, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)
        .select_related("employee__user")
        .order_by("pk")
    )
    match = next((c for c in candidates if constant_time_compare(c.code_hash, digest)), None)
    if match is None or match.employee.user.has_usable_password():
        _count_failure(keys)
        raise CodeRefused(_("The phone number or the activation code is wrong, or the code has expired or was replaced by a newer one."))
    user = match.employee.user
    user.set_password(password)
    user.save(update_fields=["password"])
    ActivationCode.objects.filter(pk=match.pk).update(used_at=now)
    for key in keys:
        cache.delete(key)
    return user


# --- password reset -------------------------------------------------------------------------------


def _reset_account(phone: str):
    """The one active, activated employee account with this phone; None when none or several."""
    User = get_user_model()
    users = list(User.objects.filter(employee__phone=phone, employee__active=True, is_active=True)[:2])
    if len(users) != 1 or not users[0].has_usable_password():
        return None
    return users[0]


@transaction.atomic
def password_reset_request(*, phone: str, now: datetime.datetime | None = None) -> None:
    """Text a 6-digit code to ``phone`` when it belongs to one activated employee; otherwise do
    nothing — the caller answers the same either way. At most RESET_SENDS texts per phone per
    window, counted for any phone, so the limit tells nothing either."""
    now = now or timezone.now()
    phone = phone_checked(phone)
    key = _attempts_key("reset-send", phone)
    _check_not_locked([key], RESET_SENDS)
    _count_failure([key])
    user = _reset_account(phone)
    if user is None:
        return
    code = f"{secrets.randbelow(10**6):06d}"
    PasswordResetCode.objects.filter(user=user, used_at__isnull=True).update(used_at=now)  # one open code at a time
    PasswordResetCode.objects.create(
        user=user, phone=phone, code_hash=_hash("reset", code), created_at=now, expires_at=now + RESET_VALID
    )
    sms_send_on_commit(
        phone,
        _("[Zhen'an Relief Market] Your code to set a new password is %(code)s, valid for %(minutes)d minutes. Do not tell anyone.")
        % {"code": code, "minutes": RESET_VALID.seconds // 60},
    )


def password_reset_confirm(*, phone: str, code: str, password: str, now: datetime.datetime | None = None):
    """Set a new password with the code sent by ``password_reset_request``; returns the user.
    A wrong code counts against the open code (5 tries, then it is dead)."""
    now = now or timezone.now()
    phone = phone_checked(phone)
    refused = _("The code is wrong or has expired. Ask for a new code if it keeps failing.")
    with transaction.atomic():
        reset = (
            PasswordResetCode.objects.select_for_update()
            .filter(phone=phone, used_at__isnull=True, expires_at__gt=now)
            .select_related("user")
            .order_by("-pk")
            .first()
        )
        if reset is None:
            _count_failure([_attempts_key("reset-try", phone)])
            _check_not_locked([_attempts_key("reset-try", phone)], RESET_TRIES * 2)
            raise CodeRefused(refused)
        if reset.failed_attempts >= RESET_TRIES:
            raise TooManyAttempts(_("Too many wrong codes. Ask for a new code."))
        if not constant_time_compare(reset.code_hash, _hash("reset", normalise_code(code))):
            PasswordResetCode.objects.filter(pk=reset.pk).update(failed_attempts=reset.failed_attempts + 1)
            if reset.failed_attempts + 1 >= RESET_TRIES:
                raise_after = TooManyAttempts(_("Too many wrong codes. Ask for a new code."))
            else:
                raise_after = CodeRefused(refused)
        else:
            raise_after = None
            user = reset.user
            user.set_password(password)
            user.save(update_fields=["password"])
            PasswordResetCode.objects.filter(pk=reset.pk).update(used_at=now)
    # Raised outside the block so that the counted attempt is committed, not rolled back.
    if raise_after is not None:
        raise raise_after
    return user
