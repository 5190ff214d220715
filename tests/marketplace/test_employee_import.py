"""Employee Excel import: all or nothing, every bad row reported in Chinese."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from openpyxl import Workbook, load_workbook

from core import roles
from marketplace.models import Employee
from marketplace.services.employees_import import employees_import_xlsx
from tests.households.factories import UserFactory
from tests.marketplace.factories import EmployeeFactory, EmployerFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture(autouse=True)
def zh():
    with translation.override("zh-hans"):
        yield


def xlsx(rows, header=("工号", "姓名", "手机号", "用户名")) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    if header:
        ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    return buffer


@pytest.fixture
def employer():
    return EmployerFactory(code="JYJ", name="镇安县教育局")


def test_a_clean_file_creates_employees_with_accounts_in_the_employee_group(employer):
    result = employees_import_xlsx(employer=employer, file=xlsx([
        ("1001", "张三", "13812345678", ""),
        ("1002", "李四", None, "lisi"),
    ]))

    assert result.ok, result.problems
    assert (result.rows, result.created, result.updated) == (2, 2, 0)
    zhang = Employee.objects.get(employer=employer, staff_number="1001")
    assert zhang.name == "张三" and zhang.user.username == "jyj-1001"
    assert zhang.phone == "13812345678"
    assert not zhang.user.has_usable_password()
    assert roles.has_role(zhang.user, roles.EMPLOYEE)
    assert Employee.objects.get(employer=employer, staff_number="1002").user.username == "lisi"


def test_importing_the_same_file_again_changes_nothing(employer):
    rows = [("1001", "张三", "", ""), ("1002", "李四", "", "")]
    employees_import_xlsx(employer=employer, file=xlsx(rows))
    result = employees_import_xlsx(employer=employer, file=xlsx(rows))
    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    assert Employee.objects.count() == 2 and User.objects.count() == 2


def test_a_known_staff_number_updates_the_employee_and_reactivates_them(employer):
    employee = EmployeeFactory(employer=employer, staff_number="1001", name="张三", active=False)
    result = employees_import_xlsx(employer=employer, file=xlsx([("1001", "张三丰", "", "zhangsf")]))
    assert (result.created, result.updated) == (0, 1)
    employee.refresh_from_db()
    assert employee.name == "张三丰" and employee.active and employee.user.username == "zhangsf"


def test_a_phone_in_the_file_is_kept_and_an_empty_cell_keeps_the_one_on_record(employer):
    employees_import_xlsx(employer=employer, file=xlsx([("1001", "张三", "13812345678", "")]))
    employees_import_xlsx(employer=employer, file=xlsx([("1001", "张三", "", "")]))
    assert Employee.objects.get(staff_number="1001").phone == "13812345678"
    employees_import_xlsx(employer=employer, file=xlsx([("1001", "张三", "13987654321", "")]))
    assert Employee.objects.get(staff_number="1001").phone == "13987654321"


def test_any_bad_row_imports_nothing_and_every_problem_is_reported_with_row_and_column(employer):
    result = employees_import_xlsx(employer=employer, file=xlsx([
        ("1001", "张三", "13812345678", ""),  # row 2: fine
        ("", "无工号", "", ""),  # row 3
        ("1003", "", "12345", ""),  # row 4: no name, bad phone
        ("1001", "重复", "", ""),  # row 5: staff number twice
        ("10 06", "王五", "", "bad name!"),  # row 6: username not allowed
    ]))

    assert not result.ok
    assert not Employee.objects.exists() and not User.objects.exists()
    found = {(p.row, p.column) for p in result.problems}
    assert found == {(3, "工号"), (4, "姓名"), (4, "手机号"), (5, "工号"), (6, "用户名")}
    reasons = {(p.row, p.column): p.reason for p in result.problems}
    assert "缺少" in reasons[(3, "工号")] or "工号" in reasons[(3, "工号")]
    assert "2" in reasons[(5, "工号")] and "5" in reasons[(5, "工号")]  # names both rows
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in p.reason) for p in result.problems)  # in Chinese
    assert result.bad_rows == [3, 4, 5, 6]


def test_a_username_taken_by_another_account_is_reported(employer):
    UserFactory(username="jyj-1001")
    result = employees_import_xlsx(employer=employer, file=xlsx([("1001", "张三", "", "")]))
    assert [(p.row, p.column) for p in result.problems] == [(2, "用户名")]
    assert not Employee.objects.exists()


def test_usernames_clash_case_insensitively_within_the_file(employer):
    result = employees_import_xlsx(employer=employer, file=xlsx([("1", "甲", "", "Wang"), ("2", "乙", "", "wang")]))
    assert [(p.row, p.column) for p in result.problems] == [(3, "用户名")]


def test_missing_required_columns_are_reported_on_the_header_row(employer):
    result = employees_import_xlsx(employer=employer, file=xlsx([("张三",)], header=("姓名",)))
    assert [(p.row, p.column) for p in result.problems] == [(1, "")]
    assert "工号" in result.problems[0].reason


def test_only_the_required_columns_are_enough(employer):
    result = employees_import_xlsx(employer=employer, file=xlsx([("A-7", "赵六")], header=("姓名", "工号")[::-1]))
    assert result.ok and Employee.objects.get().user.username == "jyj-a-7"


def test_a_file_that_is_not_excel_is_refused(employer):
    result = employees_import_xlsx(employer=employer, file=io.BytesIO(b"not a workbook"))
    assert not result.ok and "Excel" in result.problems[0].reason


def test_the_same_staff_number_at_another_employer_is_another_employee(employer):
    EmployeeFactory(employer=EmployerFactory(code="WJJ"), staff_number="1001")
    result = employees_import_xlsx(employer=employer, file=xlsx([("1001", "张三", "", "")]))
    assert result.created == 1 and Employee.objects.filter(staff_number="1001").count() == 2


def _upload(rows) -> SimpleUploadedFile:
    return SimpleUploadedFile("staff.xlsx", xlsx(rows).getvalue(),
                              content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def test_the_county_office_imports_through_the_admin_and_sees_the_bad_row_report(client, employer):
    client.force_login(UserFactory(role=roles.COUNTY_OFFICE))
    url = "/admin/marketplace/employees/import/"
    assert client.get(url).status_code == 200

    bad = client.post(url, {"employer": employer.pk, "file": _upload([("1001", "张三", "1"), ("1001", "李四", "")])})
    assert bad.status_code == 200
    html = bad.content.decode()
    assert "data-import-problems" in html and "手机号" in html
    assert not Employee.objects.exists()

    good = client.post(url, {"employer": employer.pk, "file": _upload([("1001", "张三", ""), ("1002", "李四", "")])})
    assert good.status_code == 302
    assert Employee.objects.filter(employer=employer).count() == 2


def test_the_template_download_has_the_header_row(client):
    client.force_login(UserFactory(role=roles.COUNTY_OFFICE))
    response = client.get("/admin/marketplace/employees/template.xlsx")
    header = next(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert header == ("工号", "姓名", "手机号", "用户名")


def test_supermarket_staff_may_not_import_employees(client):
    client.force_login(UserFactory(role=roles.SUPERMARKET_STAFF))
    assert client.get("/admin/marketplace/employees/import/").status_code in (302, 403)


NUMBER_CELL_REASON = "保存成了数字，请把此列设为文本格式"


@pytest.mark.parametrize("column", [0, 2], ids=["工号", "手机号"])
@pytest.mark.parametrize("stored", [1001, 1001.0, 13812345678, 1.3812345678e10, 0], ids=repr)
def test_a_staff_number_or_phone_in_a_number_cell_is_refused_never_coerced(employer, column, stored):
    row = ["1001", "张三", "13812345678", ""]
    row[column] = stored
    result = employees_import_xlsx(employer=employer, file=xlsx([row]))
    [problem] = result.problems
    assert problem.column == ("工号", "姓名", "手机号")[column] and NUMBER_CELL_REASON in problem.reason
    assert not Employee.objects.exists()


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("１３８１２３４５６７８", "13812345678"), ("١٣٨١٢٣٤٥٦٧٨", "13812345678"), ("138-1234-5678", "13812345678"), ("१३८ १२३४ ५६७८", "13812345678")],
)
def test_phones_in_any_decimal_digits_are_read_like_the_admin_form_reads_them(employer, typed, stored):
    result = employees_import_xlsx(employer=employer, file=xlsx([("Ｓ１００１", "张三", typed, "")]))
    assert result.ok, result.problems
    employee = Employee.objects.get()
    assert (employee.staff_number, employee.phone) == ("S1001", stored)


@pytest.mark.parametrize("typed", ["13812345⑥78", "1381234567⁸", "138123456７⅞"])
def test_a_phone_with_a_number_that_is_no_digit_is_refused_naming_it(employer, typed):
    result = employees_import_xlsx(employer=employer, file=xlsx([("1001", "张三", typed, "")]))
    [problem] = result.problems
    assert problem.column == "手机号" and "不是普通数字" in problem.reason


def test_a_corrupt_employee_file_gets_one_message(employer):
    result = employees_import_xlsx(employer=employer, file=io.BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512))
    [problem] = result.problems
    assert problem.row == 0 and "无法作为 Excel 工作簿" in problem.reason


def test_the_employee_admin_form_reads_the_phone_like_the_import(client):
    from django.urls import reverse

    employee = EmployeeFactory(phone="")
    client.force_login(UserFactory(role=roles.COUNTY_OFFICE, is_superuser=True))
    url = reverse("wagtailsnippets_marketplace_employee:edit", args=[employee.pk])
    data = {"user": employee.user_id, "employer": employee.employer_id, "staff_number": employee.staff_number,
            "name": employee.name, "phone": "１３９ ００００ ００１１", "active": "on"}
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    employee.refresh_from_db()
    assert employee.phone == "13900000011"
    refused = client.post(url, {**data, "phone": "1390000001①"})
    assert refused.status_code == 200 and "不是普通数字" in refused.content.decode()
    employee.refresh_from_db()
    assert employee.phone == "13900000011"
