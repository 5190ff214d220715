"""The registry in the Wagtail admin: listing (filters, search, masking per role), validated edit,
history, import and export views."""

import io
import json

import pytest
from django.urls import reverse
from wagtail.models import ModelLogEntry

from core import roles
from households.models import Household, LabourClass, PovertyStatus, SubClass
from tests.logistics.factories import CollectionPointFactory, staff_at

from .factories import HouseholdFactory, UserFactory, VillageFactory
from .sheets import HEADERS, make_xlsx, read_xlsx, sheet_row

pytestmark = pytest.mark.django_db

LIST_URL = "wagtailsnippets_households_household:list"
EDIT_URL = "wagtailsnippets_households_household:edit"
HISTORY_URL = "wagtailsnippets_households_household:history"
INSPECT_URL = "wagtailsnippets_households_household:inspect"


def masked_id(value):
    return value[:6] + "********" + value[-4:]


def masked_phone(value):
    return value[:3] + "****" + value[-4:]


@pytest.fixture
def county(client):
    return UserFactory(username="county-a", first_name="县办小李", role=roles.COUNTY_OFFICE)


@pytest.fixture
def point(household):
    """Staff of a collection point serving the household's village (the registry they may see)."""
    return staff_at(CollectionPointFactory(village=household.village), roles.COLLECTION_POINT_STAFF, username="point-a")


@pytest.fixture
def household():
    return HouseholdFactory(id_number="11010519491231002X", phone="13912345678", payout_account="6217000011112222333")


def _listing(client, user, **params):
    client.force_login(user)
    response = client.get(reverse(LIST_URL), params)
    assert response.status_code == 200
    return response.content.decode()


def _numbers_listed(client, user, **params):
    html = _listing(client, user, **params)
    return {h.number for h in Household.objects.all() if h.number in html}


def test_county_office_sees_id_numbers_and_phones_in_full(client, county, household):
    html = _listing(client, county)
    assert household.id_number in html and household.phone in html
    assert reverse("households_import") in html and reverse(EDIT_URL, args=[household.pk]) in html


def test_point_staff_see_id_numbers_and_phones_masked_in_the_listing(client, point, household):
    html = _listing(client, point)
    assert masked_id(household.id_number) in html and masked_phone(household.phone) in html
    assert household.id_number not in html and household.phone not in html


def test_a_superuser_counts_as_county_office(client, household):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    assert household.id_number in _listing(client, admin)


def test_the_inspect_view_masks_personal_data_for_point_staff(client, point, household):
    client.force_login(point)
    html = client.get(reverse(INSPECT_URL, args=[household.pk])).content.decode()
    assert masked_id(household.id_number) in html
    for secret in (household.id_number, household.phone, household.payout_account):
        assert secret not in html


def test_point_staff_may_view_but_not_edit(client, point, household):
    client.force_login(point)
    response = client.get(reverse(EDIT_URL, args=[household.pk]))
    assert response.status_code in (302, 403)
    html = _listing(client, point)
    assert reverse("households_import") not in html and reverse(EDIT_URL, args=[household.pk]) not in html
    assert reverse("households_export") in html  # view permission: the masked export is offered
    client.force_login(point)
    assert client.get(reverse("households_import")).status_code in (302, 403)


def test_the_listing_filters_by_township_village_class_status_and_flags(client, county):
    east, west = VillageFactory(), VillageFactory()
    a = HouseholdFactory(village=east, flag_marginal=True)
    b = HouseholdFactory(village=west, labour_class=LabourClass.WEAK, sub_class=SubClass.BOTTOM)
    c = HouseholdFactory(village=west, poverty_status=PovertyStatus.MONITORING, lifted_year=None, flag_elderly_alone=True)
    d = HouseholdFactory(village=west, lifted_year=2015)
    assert _numbers_listed(client, county, township=east.township_id) == {a.number}
    assert _numbers_listed(client, county, village=west.pk) == {b.number, c.number, d.number}
    assert _numbers_listed(client, county, labour_class="weak") == {b.number}
    assert _numbers_listed(client, county, sub_class="bottom") == {b.number}
    assert _numbers_listed(client, county, poverty_status="monitoring") == {c.number}
    assert _numbers_listed(client, county, flag_marginal="true") == {a.number}
    assert _numbers_listed(client, county, flag_elderly_alone="true") == {c.number}
    assert _numbers_listed(client, county, flag_early_lifted="true") == {d.number}
    assert _numbers_listed(client, county, flag_early_lifted="false") == {a.number, b.number, c.number}


def test_search_finds_by_number_name_or_the_last_digits_of_the_id(client, county):
    a = HouseholdFactory(number="611025103001", head_name="张建国")
    b = HouseholdFactory(head_name="李秀英", id_number="11010519491231002X")
    c = HouseholdFactory(head_name="王海")
    assert _numbers_listed(client, county, q="103001") == {a.number}
    assert _numbers_listed(client, county, q="秀英") == {b.number}
    assert _numbers_listed(client, county, q="1002x") == {b.number}
    assert c.number not in _listing(client, county, q="002X")


def test_masked_roles_can_search_by_the_four_visible_id_digits_but_not_probe_the_hidden_ones(client, point, household):
    assert _numbers_listed(client, point, q="002X") == {household.number}
    assert _numbers_listed(client, point, q="491231002X") == set()
    client.force_login(point)
    rows = read_xlsx(client.get(reverse("households_export"), {"q": "491231002X"}).content)
    assert rows == [HEADERS]


def _edit_data(household, **changes):
    data = {
        "number": household.number,
        "head_name": household.head_name,
        "id_number": household.id_number,
        "phone": household.phone,
        "members": household.members,
        "village": household.village_id,
        "labour_class": household.labour_class,
        "sub_class": household.sub_class,
        "poverty_status": household.poverty_status,
        "lifted_year": household.lifted_year or "",
        "payout_bank": household.payout_bank,
        "payout_account": household.payout_account,
    }
    data.update(changes)
    return data


def test_an_edit_in_the_admin_is_saved_and_logged_with_the_user_and_changed_fields(client, county, household):
    client.force_login(county)
    response = client.post(reverse(EDIT_URL, args=[household.pk]), _edit_data(household, phone="13700000000", members=5))
    assert response.status_code == 302, response.content.decode()[:2000]
    household.refresh_from_db()
    assert household.phone == "13700000000" and household.members == 5
    entry = ModelLogEntry.objects.get(object_id=str(household.pk), action="households.edit")
    assert entry.user == county
    assert set(entry.data["fields"]) == {"phone", "members"}
    assert "13700000000" not in str(entry.data)  # names of fields, never the personal data itself
    history = client.get(reverse(HISTORY_URL, args=[household.pk])).content.decode()
    assert "手机号" in history and "家庭人口" in history


def test_an_invalid_edit_is_refused_with_reasons_and_changes_nothing(client, county, household):
    client.force_login(county)
    response = client.post(
        reverse(EDIT_URL, args=[household.pk]),
        _edit_data(household, sub_class="bottom", id_number="110105194902300021", phone="12345"),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "不属于" in html  # sub-class of another class
    assert "出生日期" in html  # 30 February
    assert "手机号必须" in html
    household.refresh_from_db()
    assert household.sub_class == SubClass.ASSURED and household.phone == "13912345678"
    assert not ModelLogEntry.objects.filter(object_id=str(household.pk), action="households.edit").exists()


def test_the_admin_menu_shows_the_registry_in_chinese(client, county):
    client.force_login(county)
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    props = html.split('<script id="wagtail-sidebar-props" type="application/json">', 1)[1].split("</script>", 1)[0]
    menu = json.dumps(json.loads(props), ensure_ascii=False)
    assert "贫困户档案" in menu and "从 Excel 导入" in menu and "/admin/households/import/" in menu


def test_point_staff_get_no_import_menu_item(client, point):
    client.force_login(point)
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    assert "/admin/households/import/" not in html and "/admin/snippets/households/household/" in html


def test_the_import_page_says_that_an_import_updates_existing_households(client, county):
    client.force_login(county)
    html = client.get(reverse("households_import")).content.decode()
    assert "导入既会新增，也会更新" in html


def test_a_bad_upload_shows_every_bad_row_in_a_table_and_imports_nothing(client, county):
    village = VillageFactory()
    rows = [sheet_row(village, 1, 手机号="1234"), sheet_row(village, 2), sheet_row(village, 3, 身份证号=6.11025e17)]
    client.force_login(county)
    response = client.post(reverse("households_import"), {"file": make_xlsx(rows)})
    assert response.status_code == 200
    html = response.content.decode()
    assert "未导入任何数据" in html
    assert "手机号必须" in html and "保存成了数字，请把此列设为文本格式" in html
    assert Household.objects.count() == 0


def test_a_good_upload_imports_and_reports_counts(client, county):
    village = VillageFactory()
    HouseholdFactory(number="T00000001", village=village)
    client.force_login(county)
    response = client.post(
        reverse("households_import"), {"file": make_xlsx([sheet_row(village, 1), sheet_row(village, 2)])}, follow=True
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "新增 1 户" in html and "更新 1 户" in html
    assert Household.objects.count() == 2


def test_export_follows_the_listing_filters_and_search(client, county):
    east, west = VillageFactory(), VillageFactory()
    a = HouseholdFactory(village=east, head_name="东一")
    HouseholdFactory(village=west)
    client.force_login(county)
    response = client.get(reverse("households_export"), {"township": east.township_id})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = read_xlsx(response.content)
    assert rows[0] == HEADERS and [r[0] for r in rows[1:]] == [a.number]
    rows = read_xlsx(client.get(reverse("households_export"), {"q": "东一"}).content)
    assert [r[0] for r in rows[1:]] == [a.number]


def test_an_unreadable_filter_exports_nothing_rather_than_everything(client, county, household):
    client.force_login(county)
    rows = read_xlsx(client.get(reverse("households_export"), {"village": "not-a-village"}).content)
    assert rows == [HEADERS]


def test_export_by_point_staff_is_masked(client, point, household):
    client.force_login(point)
    rows = read_xlsx(client.get(reverse("households_export")).content)
    row = dict(zip(HEADERS, rows[1], strict=True))
    assert row["身份证号"] == masked_id(household.id_number)
    assert household.id_number not in str(rows) and household.payout_account not in str(rows)


def test_the_listing_links_to_export_with_the_current_filters(client, county, household):
    html = _listing(client, county, labour_class="able")
    assert reverse("households_export") + "?labour_class=able" in html


def test_export_reimports_unchanged_through_the_admin(client, county):
    HouseholdFactory.create_batch(3)
    client.force_login(county)
    content = client.get(reverse("households_export")).content
    upload = io.BytesIO(content)
    upload.name = "export.xlsx"
    response = client.post(reverse("households_import"), {"file": upload}, follow=True)
    assert "3 户无变化" in response.content.decode()


FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９ｘ")


@pytest.mark.parametrize(
    "typed",
    [
        "11010519491231002x",  # lower-case x
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width digits and X
        "１１０１０５１９４９１２３１００２ｘ",
        " 110105 19491231 002x ",  # spaces, as read off a card
        "١١٠١٠٥١٩٤٩١٢٣١٠٠٢x",  # Arabic-Indic digits
    ],
)
def test_the_admin_form_reads_an_id_number_like_the_import_does(client, county, typed):
    household = HouseholdFactory()
    client.force_login(county)
    response = client.post(reverse(EDIT_URL, args=[household.pk]), _edit_data(household, id_number=typed, phone="１３９ ００００ ００１１"))
    assert response.status_code == 302, response.content.decode()[:3000]
    household.refresh_from_db()
    assert (household.id_number, household.phone) == ("11010519491231002X", "13900000011")


@pytest.mark.parametrize("typed", ["11010519491231002③", "1101051949123100²X", "11010519491231002Ⅹ"])
def test_the_admin_form_refuses_digits_it_cannot_read_with_the_imports_reason(client, county, typed):
    household = HouseholdFactory()
    before = household.id_number
    client.force_login(county)
    response = client.post(reverse(EDIT_URL, args=[household.pk]), _edit_data(household, id_number=typed))
    assert response.status_code == 200
    assert "不是普通数字" in response.content.decode() or "身份证号" in response.content.decode()
    household.refresh_from_db()
    assert household.id_number == before


def test_the_admin_form_refuses_an_id_number_another_household_holds(client, county):
    HouseholdFactory(number="6110250010010099", id_number="11010519491231002X")
    household = HouseholdFactory()
    client.force_login(county)
    response = client.post(reverse(EDIT_URL, args=[household.pk]), _edit_data(household, id_number="11010519491231002x"))
    assert response.status_code == 200
    assert "6110250010010099" in response.content.decode()
    household.refresh_from_db()
    assert household.id_number != "11010519491231002X"
