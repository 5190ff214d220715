"""The admin's spreadsheet import: a large file runs in the background (a Celery task after commit)
with a progress page that needs no JavaScript, a small one in the request; a refused file's bad
rows download as .xlsx beside their original columns; who may see an import is who may start it."""

import io

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from openpyxl import load_workbook

from core import roles
from core.models import SpreadsheetImport
from core.services import ImportStatusError, spreadsheet_import_run, spreadsheet_import_set_status, spreadsheet_import_start
from core.spreadsheet import IMPORT_KINDS, ImportKind, ImportResult, register_import_kind
from households.models import Household
from tests.households.factories import UserFactory, VillageFactory
from tests.households.sheets import HEADERS, make_xlsx, sheet_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def village():
    return VillageFactory(name="水峡村", township__name="米粮镇")


@pytest.fixture
def county(client):
    user = UserFactory(username="county-imports", role=roles.COUNTY_OFFICE)
    client.force_login(user)
    return user


@pytest.fixture
def small_threshold(settings):
    settings.RELIEF_IMPORT_BACKGROUND_ROWS = 3


def _post(client, rows, capture, *, execute):
    with capture(execute=execute) as callbacks:
        response = client.post(reverse("households_import"), {"file": make_xlsx(rows)})
    return response, callbacks


def test_a_large_file_is_queued_and_the_request_redirects_at_once_to_its_progress_page(
    client, county, village, small_threshold, django_capture_on_commit_callbacks
):
    rows = [sheet_row(village, n) for n in range(1, 6)]
    response, callbacks = _post(client, rows, django_capture_on_commit_callbacks, execute=False)

    job = SpreadsheetImport.objects.get()
    assert response.status_code == 302 and response.url == reverse("spreadsheet_import_progress", args=[job.pk])
    assert len(callbacks) == 1  # the task is sent once the upload is committed, not before
    assert (job.status, job.background, job.rows_total, job.author) == ("queued", True, 5, county)
    assert job.upload.storage.exists(job.upload.name) and not Household.objects.exists()

    page = client.get(response.url)
    html = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert 'http-equiv="refresh"' in html and "<progress" in html and 'data-import-status="queued"' in html
    assert client.get(reverse("spreadsheet_import_status", args=[job.pk])).json()["status"] == "queued"

    callbacks[0]()  # the worker runs the task
    job.refresh_from_db()
    assert (job.status, job.rows, job.created) == ("done", 5, 5)
    assert Household.objects.count() == 5
    html = client.get(response.url).content.decode()
    assert 'http-equiv="refresh"' not in html and "<progress" not in html and 'data-import-status="done"' in html
    status = client.get(reverse("spreadsheet_import_status", args=[job.pk])).json()
    assert (status["finished"], status["created"], status["percent"], status["report_url"]) == (True, 5, 100, None)


def test_with_eager_celery_the_background_import_has_run_when_the_progress_page_opens(
    client, county, village, small_threshold, django_capture_on_commit_callbacks
):
    response, _callbacks = _post(client, [sheet_row(village, n) for n in range(1, 6)], django_capture_on_commit_callbacks, execute=True)
    assert response.status_code == 302
    html = client.get(response.url).content.decode()
    assert 'data-import-status="done"' in html and Household.objects.count() == 5


def test_a_small_file_is_imported_in_the_request(client, county, village, django_capture_on_commit_callbacks):
    response, callbacks = _post(client, [sheet_row(village, n) for n in range(1, 3)], django_capture_on_commit_callbacks, execute=False)
    assert response.status_code == 302 and response.url == reverse("wagtailsnippets_households_household:list")
    assert callbacks == [] and Household.objects.count() == 2
    assert SpreadsheetImport.objects.get().background is False


def test_progress_is_recorded_while_the_file_is_read(monkeypatch):
    seen = []

    def run(*, file, params, author, progress):
        for n in (1000, 2000, 3000):
            progress(n)
            job = SpreadsheetImport.objects.get()
            seen.append((job.status, job.rows_read, job.percent, job.writing))
        progress(3000, reading_done=True)
        job = SpreadsheetImport.objects.get()
        seen.append((job.status, job.rows_read, job.percent, job.writing))
        return ImportResult(rows=3000, created=3000)

    monkeypatch.setitem(IMPORT_KINDS, "probe", ImportKind("probe", run, lambda u, p: True, lambda p: "/", lambda p: "probe"))
    job = SpreadsheetImport(kind="probe", original_name="p.xlsx", rows_total=4000, background=True)
    job.upload.save("p.xlsx", ContentFile(b"read by the probe, not by openpyxl"))
    spreadsheet_import_run(job_id=job.pk)
    assert seen == [("running", 1000, 25, False), ("running", 2000, 50, False), ("running", 3000, 75, False), ("running", 3000, 99, True)]
    job.refresh_from_db()
    assert (job.status, job.created, job.percent) == ("done", 3000, 100)


def test_a_refused_file_offers_its_bad_rows_as_xlsx_beside_the_original_columns(
    client, county, village, small_threshold, django_capture_on_commit_callbacks
):
    rows = [sheet_row(village, n) for n in range(1, 6)]
    rows[1]["户编号"] = float(f"{6110250010010011:.15g}")
    rows[3]["手机号"] = "1234"
    rows[3]["家庭人口"] = "③"
    response, _ = _post(client, rows, django_capture_on_commit_callbacks, execute=True)
    job = SpreadsheetImport.objects.get()
    assert (job.status, job.bad_row_count, job.problem_count) == ("refused", 2, 3)
    html = client.get(response.url).content.decode()
    report_url = reverse("spreadsheet_import_report", args=[job.pk])
    assert report_url in html and "data-import-problems" in html and "保存成了数字，请把此列设为文本格式" in html

    report = client.get(report_url)
    assert report.status_code == 200 and "no-store" in report["Cache-Control"]
    assert "attachment" in report["Content-Disposition"]
    sheet = [list(r) for r in load_workbook(io.BytesIO(b"".join(report.streaming_content))).active.iter_rows(values_only=True)]
    assert sheet[0] == ["行号 / row", *HEADERS, "原因 / reason"]
    assert [r[0] for r in sheet[1:]] == [3, 5]
    number_column = 1 + HEADERS.index("户编号")
    assert sheet[1][number_column] == "6110250010010010"  # what the cell held, shown as text
    assert sheet[2][1 + HEADERS.index("户主姓名")] == rows[3]["户主姓名"]
    assert "户编号" in sheet[1][-1] and "保存成了数字" in sheet[1][-1]
    assert "手机号" in sheet[2][-1] and "家庭人口" in sheet[2][-1]
    assert not Household.objects.exists()


def test_a_small_refused_file_shows_its_problems_and_the_report_link_in_the_form_page(client, county, village):
    response = client.post(reverse("households_import"), {"file": make_xlsx([sheet_row(village, 1, 手机号="1234")])})
    assert response.status_code == 200
    job = SpreadsheetImport.objects.get()
    assert reverse("spreadsheet_import_report", args=[job.pk]) in response.content.decode()


@pytest.mark.parametrize("role", [roles.COLLECTION_POINT_STAFF, roles.SUPERMARKET_STAFF, roles.EMPLOYEE])
def test_only_someone_who_may_import_sees_an_import_or_its_report(client, village, role):
    job = spreadsheet_import_start(kind="households", params={}, upload=make_xlsx([sheet_row(village, 1, 手机号="1")]), author=None)
    spreadsheet_import_run(job_id=job.pk)
    client.force_login(UserFactory(role=role))
    for name in ("spreadsheet_import_progress", "spreadsheet_import_status", "spreadsheet_import_report"):
        assert client.get(reverse(name, args=[job.pk])).status_code in (302, 403), name


def test_an_import_that_crashes_ends_as_failed_with_nothing_written_and_no_500(client, county, village, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(IMPORT_KINDS, "households", ImportKind("households", boom, lambda u, p: True, lambda p: "/", lambda p: "x"))
    response = client.post(reverse("households_import"), {"file": make_xlsx([sheet_row(village, 1)])})
    assert response.status_code == 200
    assert SpreadsheetImport.objects.get().status == "failed"
    assert "导入因错误停止" in response.content.decode()


def test_running_an_import_twice_changes_nothing_the_second_time(village):
    job = spreadsheet_import_start(kind="households", params={}, upload=make_xlsx([sheet_row(village, 1)]), author=None)
    first = spreadsheet_import_run(job_id=job.pk)
    second = spreadsheet_import_run(job_id=job.pk)
    assert (first.status, second.status, second.created) == ("done", "done", 1)
    assert Household.objects.count() == 1


def test_a_finished_import_cannot_change_status_again(village):
    job = spreadsheet_import_start(kind="households", params={}, upload=make_xlsx([sheet_row(village, 1)]), author=None)
    job = spreadsheet_import_run(job_id=job.pk)
    with pytest.raises(ImportStatusError):
        spreadsheet_import_set_status(job=job, status=SpreadsheetImport.Status.RUNNING)


def test_the_employee_import_runs_in_the_background_too(client, county, settings, django_capture_on_commit_callbacks):
    from tests.marketplace.factories import EmployerFactory
    from tests.marketplace.test_employee_import import _upload

    settings.RELIEF_IMPORT_BACKGROUND_ROWS = 1
    employer = EmployerFactory(code="JYJ")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("marketplace_employees_import"), {"employer": employer.pk, "file": _upload([("1001", "张三", ""), ("1002", "李四", "")])})
    job = SpreadsheetImport.objects.get()
    assert response.url == reverse("spreadsheet_import_progress", args=[job.pk])
    assert (job.kind, job.params, job.status, job.created) == ("employees", {"employer": employer.pk}, "done", 2)
    assert employer.name in client.get(response.url).content.decode()


_ = register_import_kind  # apps register their kinds in ready(); the tests above replace one for a test only
