"""The registry import refuses what it cannot read exactly: identifiers in number cells, digits that
are no decimal digit, one ID number on two households, workbooks it cannot open — with a reason in
Chinese, writing nothing; and reads every decimal digit form the way the admin form does."""

import io
import unicodedata
import zipfile

import pytest
from django.utils import translation

from households.models import Household
from households.services_import import households_import_xlsx

from .factories import HouseholdFactory, VillageFactory, valid_id_number
from .sheets import make_xlsx, sheet_row

pytestmark = pytest.mark.django_db

NUMBER_CELL_REASON = "保存成了数字，请把此列设为文本格式"
IDENTIFIER_COLUMNS = ["户编号", "身份证号", "手机号", "收款账号"]


@pytest.fixture(autouse=True)
def zh():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def village():
    return VillageFactory(name="水峡村", township__name="米粮镇")


def _import(rows):
    return households_import_xlsx(file=make_xlsx(rows), author=None)


def _snapshot():
    return list(Household.objects.order_by("pk").values())


def test_a_16_digit_registry_number_typed_into_a_number_cell_is_refused_and_no_household_changes(village):
    # The case: Excel keeps 15 significant digits, so 6110250010010011 typed into a number
    # cell is saved as 6110250010010010 — the number of another household.
    HouseholdFactory(number="6110250010010010", head_name="刘福贵", village=village)
    HouseholdFactory(number="6110250010010011", head_name="张秀英", village=village)
    before = _snapshot()
    typed = float(f"{6110250010010011:.15g}")
    assert typed == 6110250010010010  # what Excel saved

    result = _import([sheet_row(village, 1, 户编号=typed, 户主姓名="王建国", 身份证号=valid_id_number(900))])

    assert not result.ok and (result.created, result.updated) == (0, 0)
    [problem] = result.problems
    assert (problem.row, problem.column) == (2, "户编号")
    assert NUMBER_CELL_REASON in problem.reason
    assert _snapshot() == before


@pytest.mark.parametrize("column", IDENTIFIER_COLUMNS)
@pytest.mark.parametrize("stored", [6110250010010010.0, 13912345678, 611025197503140019, 6.11025e17, 1.5, 0], ids=repr)
def test_an_identifier_in_any_number_cell_is_refused_never_coerced(village, column, stored):
    # Even an integer that happens to be exact is refused: nothing in the cell says it was.
    result = _import([sheet_row(village, 1, **{column: stored})])
    assert not result.ok
    [problem] = [p for p in result.problems if p.column == column]
    assert NUMBER_CELL_REASON in problem.reason
    assert not Household.objects.exists()


@pytest.mark.parametrize("column", IDENTIFIER_COLUMNS)
@pytest.mark.parametrize("shown", ["6.11025E+15", "6.11025e17", "1E+10"])
def test_scientific_notation_typed_as_text_is_refused_as_a_number(village, column, shown):
    result = _import([sheet_row(village, 1, **{column: shown})])
    assert any(p.column == column and NUMBER_CELL_REASON in p.reason for p in result.problems)
    assert not Household.objects.exists()


def test_a_date_cell_in_an_identifier_column_is_refused(village):
    import datetime

    result = _import([sheet_row(village, 1, 户编号=datetime.datetime(2016, 1, 1))])
    [problem] = result.problems
    assert problem.column == "户编号" and "日期" in problem.reason


DECIMAL_ZEROS = {
    "full-width": "０",
    "arabic-indic": "٠",
    "extended-arabic-indic": "۰",
    "devanagari": "०",
    "bengali": "০",
    "thai": "๐",
    "mathematical-bold": "𝟎",
}


def _script(zero: str, text: str) -> str:
    return "".join(chr(ord(zero) + int(c)) if c.isdigit() else c for c in text)


@pytest.mark.parametrize("zero", DECIMAL_ZEROS.values(), ids=DECIMAL_ZEROS.keys())
def test_decimal_digits_of_any_script_are_read_in_every_identifier_column(village, zero):
    id_number = valid_id_number(5)
    row = sheet_row(
        village,
        5,
        户编号=_script(zero, "6110250010010011"),
        身份证号=_script(zero, id_number[:17]) + id_number[17].lower(),
        手机号=_script(zero, "139 0000 0005"),
        收款账号=_script(zero, "6217000011110000005"),
        家庭人口=_script(zero, "3"),
        脱贫年份=_script(zero, "2016"),
    )
    result = _import([row])
    assert result.ok, result.problems
    household = Household.objects.get()
    assert (household.number, household.id_number, household.phone) == ("6110250010010011", id_number, "13900000005")
    assert (household.payout_account, household.members, household.lifted_year) == ("6217000011110000005", 3, 2016)


NOT_DIGITS = ["③", "⑫", "²", "⁰", "₃", "½", "Ⅲ", "❸", "㈢"]


@pytest.mark.parametrize("odd", NOT_DIGITS, ids=lambda c: unicodedata.name(c))
@pytest.mark.parametrize("column", [*IDENTIFIER_COLUMNS, "家庭人口", "脱贫年份", "户主姓名"])
def test_a_number_that_is_no_decimal_digit_is_refused_with_a_reason_in_every_column(village, odd, column):
    good = sheet_row(village, 1)
    value = f"{str(good[column])[:-1]}{odd}"
    result = _import([sheet_row(village, 1, **{column: value})])
    assert not result.ok
    reasons = [p.reason for p in result.problems if p.column == column]
    assert reasons, result.problems
    if column not in ("家庭人口", "脱贫年份"):
        assert odd in reasons[0]  # the character is named
    assert not Household.objects.exists()


def test_the_same_id_number_twice_in_the_file_is_refused_naming_both_rows(village):
    rows = [sheet_row(village, n) for n in range(1, 5)]
    rows[3]["身份证号"] = rows[1]["身份证号"].lower()  # the same number with a lower-case x is the same
    rows[1]["身份证号"] = "11010519491231002X"
    rows[3]["身份证号"] = "11010519491231002x"
    result = _import(rows)
    [problem] = result.problems
    assert (problem.row, problem.column) == (5, "身份证号")
    assert "11010519491231002X" in problem.reason and "3" in problem.reason and "5" in problem.reason
    assert not Household.objects.exists()


def test_an_id_number_of_another_household_in_the_registry_is_refused_naming_it(village):
    other = HouseholdFactory(number="6110250010010099", id_number="11010519491231002X", village=village)
    before = _snapshot()
    result = _import([sheet_row(village, 1), sheet_row(village, 2, 身份证号="11010519491231002x")])
    [problem] = result.problems
    assert (problem.row, problem.column) == (3, "身份证号")
    assert other.number in problem.reason and "11010519491231002X" in problem.reason
    assert _snapshot() == before


def test_a_household_keeping_its_own_id_number_is_no_duplicate(village):
    own = HouseholdFactory(number="T00000001", id_number=valid_id_number(1), village=village)
    result = _import([sheet_row(village, 1, 户主姓名="新户主")])
    assert result.ok, result.problems
    own.refresh_from_db()
    assert own.head_name == "新户主"


def test_two_households_swapping_id_numbers_in_one_file_is_allowed(village):
    a = HouseholdFactory(number="T00000001", id_number=valid_id_number(1), village=village)
    b = HouseholdFactory(number="T00000002", id_number=valid_id_number(2), village=village)
    result = _import([sheet_row(village, 1, 身份证号=b.id_number), sheet_row(village, 2, 身份证号=a.id_number)])
    assert result.ok, result.problems
    assert Household.objects.get(number="T00000001").id_number == valid_id_number(2)


def _good_xlsx(village, rows=3) -> bytes:
    return make_xlsx([sheet_row(village, n) for n in range(1, rows + 1)]).getvalue()


def _with_sheet_xml(content: bytes, sheet_xml: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, sheet_xml if item.filename == "xl/worksheets/sheet1.xml" else data)
    return out.getvalue()


def _broken_after_some_rows(village) -> bytes:
    content = _good_xlsx(village, rows=50)
    with zipfile.ZipFile(io.BytesIO(content)) as source:
        xml = source.read("xl/worksheets/sheet1.xml")
    return _with_sheet_xml(content, xml[: len(xml) * 2 // 3])  # cut mid-way: rows read, then the XML breaks


CORRUPT = {
    "valid zip, sheet XML cut short": _broken_after_some_rows,
    "valid zip, sheet XML not XML": lambda v: _with_sheet_xml(_good_xlsx(v), b"<worksheet><sheetData><row r='1'><c r='A1' t='s'><v>0</c>"),
    "valid zip, sheet XML empty": lambda v: _with_sheet_xml(_good_xlsx(v), b""),
    "zip of something else": lambda v: _zip_of({"readme.txt": b"hello"}),
    "not a zip": lambda v: b"this is not a spreadsheet",
    "empty file": lambda v: b"",
    ".xls renamed": lambda v: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096,
    ".csv renamed": lambda v: "户编号,户主姓名,身份证号\n6110250010010011,王建国,11010519491231002X\n".encode("gb18030"),
    "truncated download": lambda v: _good_xlsx(v)[:3000],
}


def _zip_of(files: dict) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize("make", CORRUPT.values(), ids=CORRUPT.keys())
def test_a_workbook_that_cannot_be_read_gets_one_clear_message(village, make):
    result = households_import_xlsx(file=io.BytesIO(make(village)), author=None)
    [problem] = result.problems
    assert problem.row == 0 and problem.column == ""
    assert "无法作为 Excel 工作簿" in problem.reason
    assert not Household.objects.exists()
