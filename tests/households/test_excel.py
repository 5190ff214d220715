"""Excel import (all-or-nothing, upsert, a reason per messy cell) and export (same layout, masked)."""

import io

import pytest
from openpyxl import Workbook

from core import roles
from households.excel_export import households_export_xlsx
from households.models import Household, LabourClass, PovertyStatus, SubClass
from households.services_import import households_import_xlsx

from .factories import HouseholdFactory, UserFactory, VillageFactory, valid_id_number
from .sheets import HEADERS, make_xlsx, read_xlsx, sheet_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def village():
    return VillageFactory(name="水峡村", township__name="米粮镇")


@pytest.fixture
def county():
    return UserFactory(username="county-x", role=roles.COUNTY_OFFICE)


def _import(rows, author=None, **kwargs):
    return households_import_xlsx(file=make_xlsx(rows, **kwargs), author=author)


def _only_problem(result):
    assert not result.ok
    assert len(result.problems) == 1, result.problems
    return result.problems[0]


def test_a_clean_sheet_creates_every_household(village, county):
    result = _import([sheet_row(village, n) for n in range(1, 6)], author=county)
    assert result.ok and (result.rows, result.created, result.updated) == (5, 5, 0)
    household = Household.objects.get(number="T00000001")
    assert household.village == village
    assert household.id_number == valid_id_number(1)
    assert (household.labour_class, household.sub_class) == (LabourClass.ABLE, SubClass.ASSURED)
    assert (household.poverty_status, household.lifted_year) == (PovertyStatus.LIFTED, 2016)


def test_one_bad_row_imports_nothing_and_names_row_column_and_reason_in_chinese(village):
    rows = [sheet_row(village, n) for n in range(1, 5)]
    rows[2]["手机号"] = "1234"
    result = _import(rows)
    problem = _only_problem(result)
    assert (problem.row, problem.column) == (4, "手机号")  # header is row 1, so the third data row is row 4
    assert "手机" in problem.reason
    assert Household.objects.count() == 0


def test_every_bad_row_is_reported_not_only_the_first(village):
    rows = [sheet_row(village, n) for n in range(1, 6)]
    rows[0]["手机号"] = "1234"
    rows[3]["家庭人口"] = "很多"
    rows[3]["边缘户"] = "也许"
    result = _import(rows)
    assert [(p.row, p.column) for p in result.problems] == [(2, "手机号"), (5, "家庭人口"), (5, "边缘户")]
    assert result.bad_rows == [2, 5]
    assert Household.objects.count() == 0


@pytest.mark.parametrize("stored", [6.11025e17, 611025197503140000, "6.11025E+17"])
def test_an_id_number_saved_as_a_number_gets_its_own_reason(village, stored):
    result = _import([sheet_row(village, 1, 身份证号=stored)])
    problem = _only_problem(result)
    assert problem.column == "身份证号"
    assert "数字" in problem.reason and "文本" in problem.reason


def test_full_width_digits_and_stray_spaces_are_accepted_after_normalising(village):
    full_width = valid_id_number(5).translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    row = sheet_row(
        village,
        5,
        户编号="  T00000005 ",
        户主姓名=" 王五\u3000",
        身份证号=f" {full_width} ",
        手机号="１３９ ００００ ０００５",
        乡镇=" 米粮镇",
        村="水峡村 ",
        子类别=" 放心户 ",
        家庭人口="３",
    )
    result = _import([row])
    assert result.ok, result.problems
    household = Household.objects.get()
    assert (household.number, household.head_name) == ("T00000005", "王五")
    assert household.id_number == valid_id_number(5)
    assert household.phone == "13900000005" and household.members == 3


def test_duplicate_registry_numbers_in_the_file_are_reported_with_both_rows(village):
    rows = [sheet_row(village, n) for n in range(1, 5)]
    rows[3]["户编号"] = rows[0]["户编号"]
    result = _import(rows)
    problem = _only_problem(result)
    assert (problem.row, problem.column) == (5, "户编号")
    assert "2" in problem.reason and "5" in problem.reason and "T00000001" in problem.reason
    assert Household.objects.count() == 0


def test_an_unknown_township_or_village_is_named(village):
    result = _import([sheet_row(village, 1, 乡镇="火星镇"), sheet_row(village, 2, 村="月亮村")])
    assert [(p.row, p.column) for p in result.problems] == [(2, "乡镇"), (3, "村")]
    assert "火星镇" in result.problems[0].reason and "月亮村" in result.problems[1].reason


def test_a_sub_class_of_another_class_is_refused(village):
    problem = _only_problem(_import([sheet_row(village, 1, 劳动能力类别="无劳动能力", 子类别="放心户")]))
    assert problem.column == "子类别"
    assert "放心户" in problem.reason and "有劳动能力" in problem.reason


def test_an_unknown_class_word_lists_the_allowed_ones(village):
    problem = _only_problem(_import([sheet_row(village, 1, 劳动能力类别="很能干")]))
    assert problem.column == "劳动能力类别" and "弱劳动能力" in problem.reason


def test_a_bad_phone_is_refused(village):
    problem = _only_problem(_import([sheet_row(village, 1, 手机号="0915-123456")]))
    assert problem.column == "手机号"


@pytest.mark.parametrize("year", [2035, 1999, "去年"])
def test_a_bad_lifted_year_is_refused(village, year):
    problem = _only_problem(_import([sheet_row(village, 1, 脱贫年份=year)]))
    assert problem.column == "脱贫年份"


def test_a_lifted_household_without_its_year_is_refused(village):
    problem = _only_problem(_import([sheet_row(village, 1, 脱贫年份=None)]))
    assert problem.column == "脱贫年份"


def test_a_masked_export_cannot_be_imported_back(village):
    problem = _only_problem(_import([sheet_row(village, 1, 身份证号="611025********0012")]))
    assert problem.column == "身份证号"


def test_a_missing_column_is_reported_on_the_header_row(village):
    headers = [h for h in HEADERS if h != "身份证号"]
    problem = _only_problem(_import([sheet_row(village, 1)], headers=headers))
    assert problem.row == 1 and "身份证号" in problem.reason


def test_a_file_that_is_not_a_workbook_is_refused():
    result = households_import_xlsx(file=io.BytesIO(b"not a spreadsheet"), author=None)
    assert not result.ok and Household.objects.count() == 0


def test_blank_lines_are_skipped(village):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADERS)
    sheet.append([sheet_row(village, 1)[h] for h in HEADERS])
    sheet.append([None] * len(HEADERS))
    sheet.append([sheet_row(village, 2)[h] for h in HEADERS])
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    result = households_import_xlsx(file=out, author=None)
    assert result.ok and result.created == 2


def test_an_existing_registry_number_updates_the_household(village, county):
    household = HouseholdFactory(number="T00000001", village=village, members=2)
    result = _import([sheet_row(village, 1, 家庭人口=5, 边缘户="是"), sheet_row(village, 2)], author=county)
    assert result.ok and (result.created, result.updated, result.unchanged) == (1, 1, 0)
    household.refresh_from_db()
    assert household.members == 5 and household.flag_marginal
    assert Household.objects.count() == 2


def test_an_update_can_clear_values_and_move_a_household_to_another_village(village):
    other = VillageFactory(township=village.township, name="东坡村")
    household = HouseholdFactory(number="T00000001", village=village, flag_marginal=True)
    HouseholdFactory(number="T00000002", village=village)
    result = _import(
        [
            sheet_row(village, 1, 贫困状态="未脱贫", 脱贫年份=None, 手机号=None, 村="东坡村", 收款账号=None),
            sheet_row(village, 2, 贫困状态="监测户", 脱贫年份=2019),
        ]
    )
    assert result.ok and result.updated == 2, result.problems
    household.refresh_from_db()
    assert (household.poverty_status, household.lifted_year, household.phone) == (PovertyStatus.IN_POVERTY, None, "")
    assert household.village == other and household.payout_account == "" and not household.flag_marginal
    assert Household.objects.get(number="T00000002").lifted_year == 2019


def test_an_import_leaves_a_history_entry_naming_the_author_and_the_fields_not_the_values(village, county):
    from wagtail.models import ModelLogEntry

    household = HouseholdFactory(number="T00000001", village=village, members=2)
    _import([sheet_row(village, 1, 家庭人口=5)], author=county)
    entry = ModelLogEntry.objects.get(object_id=str(household.pk), action="households.import_update")
    assert entry.user == county
    assert "members" in entry.data["fields"]
    assert household.id_number not in str(entry.data)


def test_export_then_import_changes_nothing(village, county):
    HouseholdFactory.create_batch(3, village=village)
    HouseholdFactory(
        village=village,
        labour_class=LabourClass.NONE,
        sub_class=SubClass.SAFETY_NET,
        poverty_status=PovertyStatus.IN_POVERTY,
        lifted_year=None,
        phone="",
        flag_elderly_alone=True,
        id_number="11010519491231002X",
    )
    before = list(Household.objects.order_by("number").values())
    content = households_export_xlsx(queryset=Household.objects.all(), user=county)
    result = households_import_xlsx(file=io.BytesIO(content), author=county)
    assert result.ok, result.problems
    assert (result.rows, result.created, result.updated, result.unchanged) == (4, 0, 0, 4)
    assert list(Household.objects.order_by("number").values()) == before


def test_export_writes_the_import_layout_with_personal_data_in_full_for_county_office(village, county):
    household = HouseholdFactory(village=village, flag_illness_disability=True)
    rows = read_xlsx(households_export_xlsx(queryset=Household.objects.all(), user=county))
    assert rows[0] == HEADERS
    row = dict(zip(HEADERS, rows[1], strict=True))
    assert row["身份证号"] == household.id_number and row["手机号"] == household.phone
    assert row["收款账号"] == household.payout_account
    assert (row["乡镇"], row["村"], row["大病残疾户"], row["独居老人户"]) == ("米粮镇", "水峡村", "是", "否")


@pytest.mark.parametrize("role", [roles.COLLECTION_POINT_STAFF, roles.SUPERMARKET_STAFF])
def test_export_masks_personal_data_for_other_roles(village, role):
    household = HouseholdFactory(village=village)
    user = UserFactory(role=role)
    rows = read_xlsx(households_export_xlsx(queryset=Household.objects.all(), user=user))
    row = dict(zip(HEADERS, rows[1], strict=True))
    assert row["身份证号"] == household.id_number[:6] + "********" + household.id_number[-4:]
    assert row["手机号"] == household.phone[:3] + "****" + household.phone[-4:]
    assert row["收款账号"].endswith(household.payout_account[-4:]) and row["收款账号"].startswith("*")
    assert household.id_number not in str(rows) and household.payout_account not in str(rows)


def test_import_does_not_query_per_row(village, django_assert_max_num_queries):
    rows = [sheet_row(village, n) for n in range(1, 201)]
    sheet = make_xlsx(rows)
    with django_assert_max_num_queries(12):
        result = households_import_xlsx(file=sheet, author=None)
    assert result.ok and result.created == 200
