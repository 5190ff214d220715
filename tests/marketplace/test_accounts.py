"""Employees sign in: activation codes, the codes sheet and command, reset by SMS."""

from __future__ import annotations

import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from core.models import SmsMessage
from marketplace.accounts.models import ActivationCode, PasswordResetCode
from marketplace.accounts.services import (
    CodeRefused,
    InvalidPhone,
    TooManyAttempts,
    account_activate,
    activation_codes_issue,
    password_reset_confirm,
    password_reset_request,
)
from tests.households.factories import UserFactory
from tests.logistics.intake_factories import county_user
from tests.marketplace.account_factories import coordinator_of, last_sms_code, waiting_employee
from tests.marketplace.factories import EmployeeFactory, EmployerFactory

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "chestnut-harvest-2026"


@pytest.fixture(autouse=True)
def _fresh_attempt_counters():
    cache.clear()
    yield
    cache.clear()


def _code_of(rows, employee) -> str:
    return next(r.code for r in rows if r.staff_number == employee.staff_number)


def test_codes_are_stored_only_as_hashes_and_each_waiting_employee_gets_one():
    employer = EmployerFactory()
    a, b = waiting_employee(employer=employer), waiting_employee(employer=employer)
    active = EmployeeFactory(employer=employer, phone="13900000001")  # has a password already
    rows = activation_codes_issue(employer=employer)
    assert {r.staff_number for r in rows} == {a.staff_number, b.staff_number}
    assert active.staff_number not in {r.staff_number for r in rows}
    for row in rows:
        digits = row.code.replace(" ", "")
        assert len(digits) == 8 and digits.isdigit()
        assert not ActivationCode.objects.filter(code_hash__contains=digits).exists()
    code = ActivationCode.objects.get(employee=a)
    assert code.expires_at - code.created_at == datetime.timedelta(days=30)


def test_employee_activates_once_with_phone_and_code_and_the_code_is_spent():
    employee = waiting_employee()
    code = _code_of(activation_codes_issue(employer=employee.employer), employee)
    user = account_activate(phone=f"+86 {employee.phone[:3]}-{employee.phone[3:7]}-{employee.phone[7:]}", code=code, password=NEW_PASSWORD)
    assert user.pk == employee.user_id and user.check_password(NEW_PASSWORD)
    assert ActivationCode.objects.get(employee=employee).used_at is not None
    with pytest.raises(CodeRefused):
        account_activate(phone=employee.phone, code=code, password="another-password-9")


def test_a_regenerated_sheet_replaces_the_earlier_codes():
    employee = waiting_employee()
    first = _code_of(activation_codes_issue(employer=employee.employer), employee)
    second = _code_of(activation_codes_issue(employer=employee.employer), employee)
    with pytest.raises(CodeRefused):
        account_activate(phone=employee.phone, code=first, password=NEW_PASSWORD)
    assert account_activate(phone=employee.phone, code=second, password=NEW_PASSWORD).check_password(NEW_PASSWORD)


def test_a_code_expires_after_thirty_days():
    employee = waiting_employee()
    issued = timezone.now() - datetime.timedelta(days=30, minutes=1)
    code = _code_of(activation_codes_issue(employer=employee.employer, now=issued), employee)
    with pytest.raises(CodeRefused):
        account_activate(phone=employee.phone, code=code, password=NEW_PASSWORD)


def test_wrong_codes_lock_the_phone_after_five_attempts_even_the_right_code():
    employee = waiting_employee()
    code = _code_of(activation_codes_issue(employer=employee.employer), employee)
    for _i in range(5):
        with pytest.raises(CodeRefused):
            account_activate(phone=employee.phone, code="00000000" if code != "0000 0000" else "11111111", password=NEW_PASSWORD)
    with pytest.raises(TooManyAttempts):
        account_activate(phone=employee.phone, code=code, password=NEW_PASSWORD)
    assert not get_user_model().objects.get(pk=employee.user_id).has_usable_password()


def test_an_unknown_phone_gets_the_same_answer_as_a_wrong_code():
    employee = waiting_employee()
    activation_codes_issue(employer=employee.employer)
    with pytest.raises(CodeRefused) as unknown:
        account_activate(phone="13712345678", code="12345678", password=NEW_PASSWORD)
    with pytest.raises(CodeRefused) as wrong:
        account_activate(phone=employee.phone, code="12345678", password=NEW_PASSWORD)
    assert unknown.value.message == wrong.value.message


@pytest.mark.parametrize("phone", ["12345678901", "1380013800", "abc", "23800138000", "138001380001"])
def test_phones_that_are_not_mainland_mobiles_are_refused(phone):
    with pytest.raises(InvalidPhone):
        account_activate(phone=phone, code="12345678", password=NEW_PASSWORD)


def test_activation_page_signs_the_employee_in_and_keeps_the_typed_phone_after_an_error(client):
    employee = waiting_employee()
    code = _code_of(activation_codes_issue(employer=employee.employer), employee)
    url = reverse("account_activate")
    bad = client.post(url, {"phone": employee.phone, "code": code, "new_password1": "12345", "new_password2": "12345"})
    assert bad.status_code == 400
    assert employee.phone in bad.content.decode() and 'role="alert"' in bad.content.decode()
    assert "密码太短，至少要有 8 个字符" in bad.content.decode()  # Django's own catalogue lacks this wording
    differ = client.post(url, {"phone": employee.phone, "code": code, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"})
    assert differ.status_code == 400 and "两次输入的密码不一致" in differ.content.decode()
    ok = client.post(url, {"phone": employee.phone, "code": code, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert ok.status_code == 302
    assert client.get("/orders/").status_code == 200  # signed in as the employee
    client.logout()
    assert client.login(username=employee.user.username, password=NEW_PASSWORD)


def test_reset_texts_a_six_digit_code_that_sets_a_new_password(django_capture_on_commit_callbacks):
    employee = EmployeeFactory(phone="13600000011")
    with django_capture_on_commit_callbacks(execute=True):
        password_reset_request(phone=employee.phone)
    code = last_sms_code(employee.phone)
    assert len(code) == 6
    reset = PasswordResetCode.objects.get(user=employee.user)
    assert reset.expires_at - reset.created_at == datetime.timedelta(minutes=10) and code not in reset.code_hash
    user = password_reset_confirm(phone=employee.phone, code=code, password=NEW_PASSWORD)
    assert user.check_password(NEW_PASSWORD)
    with pytest.raises(CodeRefused):
        password_reset_confirm(phone=employee.phone, code=code, password="yet-another-pass-1")


def test_reset_code_allows_five_tries_then_is_dead(django_capture_on_commit_callbacks):
    employee = EmployeeFactory(phone="13600000012")
    with django_capture_on_commit_callbacks(execute=True):
        password_reset_request(phone=employee.phone)
    code = last_sms_code(employee.phone)
    wrong = "000000" if code != "000000" else "111111"
    for _i in range(4):
        with pytest.raises(CodeRefused):
            password_reset_confirm(phone=employee.phone, code=wrong, password=NEW_PASSWORD)
    with pytest.raises(TooManyAttempts):
        password_reset_confirm(phone=employee.phone, code=wrong, password=NEW_PASSWORD)
    with pytest.raises(TooManyAttempts):
        password_reset_confirm(phone=employee.phone, code=code, password=NEW_PASSWORD)
    assert not get_user_model().objects.get(pk=employee.user_id).check_password(NEW_PASSWORD)


def test_reset_code_expires_after_ten_minutes(django_capture_on_commit_callbacks):
    employee = EmployeeFactory(phone="13600000013")
    with django_capture_on_commit_callbacks(execute=True):
        password_reset_request(phone=employee.phone, now=timezone.now() - datetime.timedelta(minutes=11))
    with pytest.raises(CodeRefused):
        password_reset_confirm(phone=employee.phone, code=last_sms_code(employee.phone), password=NEW_PASSWORD)


def test_reset_page_answers_the_same_for_a_known_and_an_unknown_phone(client, django_capture_on_commit_callbacks):
    EmployeeFactory(phone="13600000014")
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(reverse("account_reset"), {"phone": "13600000014"}, follow=True)
        unknown = client.post(reverse("account_reset"), {"phone": "13600000099"}, follow=True)
    assert known.status_code == unknown.status_code == 200
    assert known.redirect_chain == unknown.redirect_chain
    strip = lambda r: r.content.decode().replace("13600000014", "").replace("13600000099", "")  # noqa: E731
    assert strip(known).split('name="csrfmiddlewaretoken"')[0] == strip(unknown).split('name="csrfmiddlewaretoken"')[0]
    assert SmsMessage.objects.filter(phone="13600000014").count() == 1
    assert not SmsMessage.objects.filter(phone="13600000099").exists()


def test_reset_round_trip_through_the_pages_signs_the_employee_in(client, django_capture_on_commit_callbacks):
    employee = EmployeeFactory(phone="13600000015")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset"), {"phone": employee.phone})
    page = client.get(reverse("account_reset_confirm"))
    assert employee.phone in page.content.decode()  # carried over, not typed twice
    response = client.post(
        reverse("account_reset_confirm"),
        {"phone": employee.phone, "code": last_sms_code(employee.phone), "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert get_user_model().objects.get(pk=employee.user_id).check_password(NEW_PASSWORD)


def test_a_coordinator_downloads_codes_of_their_own_employer_only(client):
    mine, other = EmployerFactory(), EmployerFactory()
    a = waiting_employee(employer=mine)
    waiting_employee(employer=mine, phone="")
    b = waiting_employee(employer=other)
    client.force_login(coordinator_of(mine))
    page = client.get(reverse("activation_codes"))
    assert page.status_code == 200 and mine.name in page.content.decode() and other.name not in page.content.decode()
    assert "生成新的激活码" in page.content.decode() or "新的" in page.content.decode()
    response = client.post(reverse("activation_codes_issue"), {"employer": mine.code, "format": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:5] == ("单位", "工号", "姓名", "手机号", "激活码")
    phones = {r[3] for r in rows[1:] if r and r[3]}
    assert a.phone in phones and b.phone not in phones
    refused = client.post(reverse("activation_codes_issue"), {"employer": other.code, "format": "xlsx"})
    assert refused.status_code == 302 and not ActivationCode.objects.filter(employee=b).exists()


def test_print_sheet_shows_codes_that_work(client):
    employee = waiting_employee()
    client.force_login(county_user())
    page = client.post(reverse("activation_codes_issue"), {"employer": employee.employer.code, "format": "print"})
    html = page.content.decode()
    assert page.status_code == 200 and employee.name in html
    import re

    code = re.search(r'class="code">(\d{4} \d{4})<', html).group(1)
    assert account_activate(phone=employee.phone, code=code, password=NEW_PASSWORD)


def test_employees_and_station_staff_may_not_open_the_codes_page(client):
    client.force_login(EmployeeFactory().user)
    assert client.get(reverse("activation_codes")).status_code == 403
    client.force_login(UserFactory())
    assert client.post(reverse("activation_codes_issue"), {"employer": "X"}).status_code == 403


def test_activation_codes_command_writes_the_sheet_for_one_employer(tmp_path):
    employer = EmployerFactory()
    employee = waiting_employee(employer=employer)
    waiting_employee()  # another employer's
    out = tmp_path / "codes.xlsx"
    call_command("activation_codes", "--employer", employer.code, "--output", str(out), stdout=io.StringIO())
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    body = [r for r in rows[1:] if r and r[3]]
    assert [r[3] for r in body] == [employee.phone]
    assert account_activate(phone=employee.phone, code=body[0][4], password=NEW_PASSWORD)
    with pytest.raises(CommandError):
        call_command("activation_codes", "--employer", "NOPE", "--output", str(out))


def test_the_import_creates_accounts_without_a_usable_password():
    from marketplace.services.employees import employee_account_create

    employee = employee_account_create(employer=EmployerFactory(), staff_number="0009", name="王芳", phone="13700000009", username="wf9")
    assert not employee.user.has_usable_password()
    assert employee.user.groups.filter(name="employee").exists()
