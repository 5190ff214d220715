"""Words that mean two things keep each its own Chinese. Django merges every app's catalogue, the
first app (or LOCALE_PATHS) winning a shared msgid, so one app's word once stood in another's
place: an employee's money read "积分余额 ¥…" (love points) in the storefront header and on the
allocation page, its history "积分明细"; a product's price "/ 单位" instead of "/ 件"; and the
online-mall sales channel "已联网" (the intake phone's connection). Each now has a context where
its meaning is the narrower one."""

import pytest
from django.test import Client

from tests.cms.factories import catalogue
from tests.lovepoints.factories import world
from tests.marketplace.factories import EmployeeFactory, allocation_year

pytestmark = pytest.mark.django_db


def _zh(client, url):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    return response.content.decode()


def test_an_employees_allocation_balance_is_money_not_points():
    from marketplace.services.allocation import allocation_grant

    shop = catalogue(1, price="40.00")
    employee = EmployeeFactory(name="王芳")
    allocation_grant(employee=employee, year=allocation_year().year)
    client = Client()
    client.force_login(employee.user)
    product, allocation = _zh(client, shop.pages[0].url), _zh(client, "/allocation/")
    for html in (product, allocation):
        assert "余额" in html
        assert "积分余额" not in html
    assert "明细" in allocation and "积分明细" not in allocation
    assert "/ 件" in product and "/ 单位" not in product


def test_the_online_sales_channel_is_the_mall_and_the_intake_phone_is_connected():
    from django.utils import translation

    from households.models import SalesChannel

    with translation.override("zh-hans"):
        assert str(SalesChannel.ONLINE.label) == "网上商城"
        assert translation.pgettext("connection", "Online") == "已联网"
        assert translation.pgettext("count", "intakes") == "笔"


def test_a_households_love_points_balance_is_points():
    w = world()
    client = Client()
    client.force_login(w.staff)
    html = _zh(client, f"/love-points/card/{w.households[0].number}/")
    assert "积分余额" in html and "积分明细" in html


def test_a_payment_that_failed_did_not_fail_an_inspection():
    """A card payment's "Failed" is 失败; a batch that failed its inspection is 不合格. Each
    app once had "Failed", and logistics' won, so a failed payment read 不合格 (unqualified).
    Likewise the appraisal item's "category" (love points) no longer names the produce's,
    a canteen bill's "paid at" and "Unpaid" are not a household payout's, and "from" on a
    date filter is not a shipment's origin."""
    from django.utils import translation

    from households.reports.selectors import IncomeReportFilterSet
    from logistics.models import PackedBatch, Produce
    from lovepoints.models import Award
    from marketplace.canteens.models import CanteenInvoice
    from marketplace.filters import OrderFilter
    from marketplace.models import Payment
    from marketplace.settlement.models import Payout

    def label(model, field):
        return str(model._meta.get_field(field).verbose_name)

    with translation.override("zh-hans"):
        assert str(Payment.Status.FAILED.label) == "失败"
        assert str(PackedBatch.Inspection.FAILED.label) == "不合格"
        assert label(Produce, "category") == "类别"
        assert label(Award, "category") == "评议项目"
        assert label(CanteenInvoice, "paid_at") == "付款时间"
        assert label(Payout, "paid_at") == "发放时间"
        assert str(Payout.Status.UNPAID.label) == "未发放"
        assert str(OrderFilter().filters["created_after"].label) == "起"
        assert str(IncomeReportFilterSet().filters["date_from"].label) == "起"


# Words that two catalogues translate differently, where the one Django shows reads right everywhere
# the word is used. Django merges the catalogues: LOCALE_PATHS first, then the apps in
# INSTALLED_APPS order (ours before Wagtail's and Django's), the first to have a word winning, so
# our word also replaces Wagtail's and Django's own in their admin. Listed: synonyms, or a count's
# column where the plain noun also reads. A word with two meanings gets a context instead
# (pgettext, {% trans "…" context "…" %}): "Change" (cash) once read 找零 on the admin's change
# links and on the intake screen's button that changes the household.
SYNONYMS = {
    # between our own apps
    "Awaiting approval", "Batch", "Books", "Code", "Counted", "Difference", "Employee", "Employees",
    "Enter the date as YYYY-MM-DD.", "Filter", "Granted", "Household", "Household registry number.",
    "Households", "Line %(n)d", "Lot", "Orders", "Owed", "Paid", "Payment",
    "Please correct the following:", "Produce", "Rank", "Refunded", "Refunds", "Remove", "Spent",
    "Summary", "Township", "Villages", "What", "Year", "active", "balance after", "code",
    "counted at", "counted by", "from", "household", "reverses", "stock-take", "to", "township",
    # ours over Wagtail's or Django's
    "Account", "Action", "Actions", "Admin", "Approve", "Approved", "Breadcrumb", "Edited", "Name",
    "Next", "Page not found", "Previous", "Search", "Show", "Sort by", "Today", "created at",
    "finished at", "name", "started at",
}


def _words_translated_two_ways():
    """{msgid: {catalogue: msgstr}} for each word one of our catalogues translates unlike another."""
    import gettext
    from pathlib import Path

    from django.apps import apps
    from django.conf import settings

    ours = [Path(p) for p in settings.LOCALE_PATHS]
    ours += [Path(app.path) / "locale" for app in apps.get_app_configs() if "site-packages" not in app.path]
    theirs = [Path(app.path) / "locale" for app in apps.get_app_configs() if "site-packages" in app.path]
    seen: dict[str, dict[str, str]] = {}
    for d in ours + theirs:
        mo = d / "zh_Hans" / "LC_MESSAGES" / "django.mo"
        if not mo.exists():
            continue
        with mo.open("rb") as f:
            catalog = gettext.GNUTranslations(f)._catalog
        name = str(d.relative_to(settings.BASE_DIR)) if d in ours else d.parent.name
        for msgid, msgstr in catalog.items():
            if isinstance(msgid, str) and msgid and "\x04" not in msgid:
                seen.setdefault(msgid, {})[name] = msgstr
    ours_names = {str(d.relative_to(settings.BASE_DIR)) for d in ours}
    return {
        msgid: found for msgid, found in seen.items()
        if len(set(found.values())) > 1 and ours_names & set(found)
    }


def test_every_word_two_catalogues_translate_differently_is_a_known_synonym():
    two_ways = _words_translated_two_ways()
    assert len(two_ways) > 10  # the catalogues were found and read
    unchecked = {msgid: found for msgid, found in two_ways.items() if msgid not in SYNONYMS}
    assert not unchecked, f"give the narrower meaning a context, or add it to SYNONYMS once checked: {unchecked}"
    assert not SYNONYMS - set(two_ways), "no longer translated two ways; drop from SYNONYMS"


def test_the_words_that_read_wrong_in_the_admin_and_at_the_scale():
    """Each had one app's narrower meaning in every other place: the admin's change links read
    找零 (cash change), the page editor's title 抬头 (a fapiao's), Wagtail's page lists 分页,
    a document 单据, a number 单号, a redirect's from and to 起始日期/截止日期."""
    from django.utils import translation

    with translation.override("zh-hans"):
        t, p = translation.gettext, translation.pgettext
        assert t("Change") != "找零" and p("cash", "Change") == "找零"
        assert p("household", "Change") == "更换"
        assert t("Title") == "标题" and p("fapiao", "Title") == "抬头"
        assert t("History") == "历史" and p("allocation", "History") == "明细"
        assert t("Pages") == "页面" and p("pagination", "Pages") == "分页"
        assert t("Document") == "文档" and p("trace", "Document") == "单据"
        assert t("Number") != "单号" and p("stock-take", "Number") == "单号"
        assert t("From") != "起始日期" and p("date", "From") == "起始日期"
        assert t("Add") != "加入" and p("counter", "Add") == "加入"
        assert p("sort", "Newest") == "最新上架"
