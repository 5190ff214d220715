"""``manage.py import_households`` and ``import_employees``: all or nothing, every refused row printed
with its reason and exit status 1, or the counts and exit status 0."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from households.models import Household
from marketplace.models import Employee
from tests.marketplace.factories import EmployerFactory

from .factories import HouseholdFactory, VillageFactory
from .sheets import make_xlsx, sheet_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def village():
    return VillageFactory(name="水峡村", township__name="米粮镇")


def _file(tmp_path, rows, name="households.xlsx"):
    path = tmp_path / name
    path.write_bytes(make_xlsx(rows).getvalue())
    return path


def _run(*args):
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_a_clean_file_is_imported_and_the_command_prints_the_counts(tmp_path, village):
    HouseholdFactory(number="T00000001", village=village)
    path = _file(tmp_path, [sheet_row(village, n) for n in range(1, 4)])
    out = _run("import_households", str(path), "--language", "en")
    assert "3 rows imported" in out and "2 created, 1 updated, 0 unchanged" in out
    assert Household.objects.count() == 3


def test_refused_rows_are_each_printed_with_their_reason_and_the_command_exits_1(tmp_path, village):
    rows = [sheet_row(village, n) for n in range(1, 5)]
    rows[1]["户编号"] = float(f"{6110250010010011:.15g}")
    rows[3]["手机号"] = "1234"
    path = _file(tmp_path, rows)
    report = tmp_path / "refused.xlsx"
    from io import StringIO

    out = StringIO()
    with pytest.raises(CommandError) as info:
        call_command("import_households", str(path), "--report", str(report), stdout=out)
    assert info.value.returncode == 1
    assert "2 行被拒绝" in str(info.value)
    printed = out.getvalue().splitlines()
    assert any(line.startswith("第 3 行 [户编号]") and "保存成了数字，请把此列设为文本格式" in line for line in printed)
    assert any(line.startswith("第 5 行 [手机号]") for line in printed)
    assert not Household.objects.exists()
    sheet = [list(r) for r in load_workbook(report).active.iter_rows(values_only=True)]
    assert [r[0] for r in sheet[1:]] == [3, 5]


def test_a_corrupt_file_exits_1_with_one_message(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    from io import StringIO

    out = StringIO()
    with pytest.raises(CommandError):
        call_command("import_households", str(path), stdout=out)
    assert out.getvalue().count("\n") == 1 and "无法作为 Excel 工作簿" in out.getvalue()


def test_a_missing_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="没有这个文件"):
        call_command("import_households", str(tmp_path / "nope.xlsx"))


def _employee_file(tmp_path, rows):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["工号", "姓名", "手机号"])
    for row in rows:
        workbook.active.append(list(row))
    path = tmp_path / "staff.xlsx"
    workbook.save(path)
    return path


def test_import_employees_imports_one_employers_file_and_exits_0(tmp_path):
    employer = EmployerFactory(code="JYJ")
    path = _employee_file(tmp_path, [("1001", "张三", "１３８１２３４５６７８"), ("1002", "李四", "")])
    out = _run("import_employees", str(path), "--employer", "JYJ", "--language", "en")
    assert "2 created, 0 updated" in out
    assert Employee.objects.get(employer=employer, staff_number="1001").phone == "13812345678"


def test_import_employees_refuses_number_cells_and_exits_1(tmp_path):
    EmployerFactory(code="JYJ")
    path = _employee_file(tmp_path, [(1001, "张三", "13812345678"), ("1002", "李四", 13912345678)])
    from io import StringIO

    out = StringIO()
    with pytest.raises(CommandError) as info:
        call_command("import_employees", str(path), "--employer", "JYJ", stdout=out)
    assert info.value.returncode == 1
    assert "第 2 行 [工号]" in out.getvalue() and "第 3 行 [手机号]" in out.getvalue()
    assert out.getvalue().count("保存成了数字，请把此列设为文本格式") == 2
    assert not Employee.objects.exists()


def test_import_employees_names_an_unknown_employer(tmp_path):
    path = _employee_file(tmp_path, [("1001", "张三", "")])
    with pytest.raises(CommandError, match="XYZ"):
        call_command("import_employees", str(path), "--employer", "XYZ")
