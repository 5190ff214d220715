"""Demo shop: a product for every demo SKU, the county's employers and a few hundred employees
(the demo login ``employee`` among them), this year's allocation granted, and some completed
allocation-only orders so that settlement has sales. Running it twice changes nothing."""

from __future__ import annotations

import datetime
import random
import time
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from core import roles
from core.money import yuan
from logistics.models import Produce, Sku

from .models import Employee, Employer, Order, Product
from .services.allocation import allocation_grant_year, allocation_year_current
from .services.cart import cart_item_set
from .services.checkout import checkout_submit
from .services.employees import employee_create, memberships_open_missing
from .services.orders import order_transition

EMPLOYERS = [
    ("ZA-EDU", "镇安县教育局", "镇安县永乐街道城关路12号"),
    ("ZA-FIN", "镇安县财政局", "镇安县永乐街道前街6号"),
    ("ZA-HOSP", "镇安县医院", "镇安县永乐街道东大街1号"),
    ("ZA-TCM", "镇安县中医医院", "镇安县永乐街道西街28号"),
    ("ZA-MS", "镇安中学", "镇安县永乐街道中学路3号"),
    ("ZA-HS2", "镇安县第二中学", "镇安县回龙镇政府街"),
    ("ZA-AGR", "镇安县农业农村局", "镇安县永乐街道北街15号"),
    ("ZA-PRO", "镇安县乡村振兴局", "镇安县永乐街道政府大院"),
    ("ZA-TAX", "国家税务总局镇安县税务局", "镇安县永乐街道南街9号"),
    ("ZA-PUB", "镇安县公安局", "镇安县永乐街道环城路18号"),
    ("ZA-HLTH", "镇安县卫生健康局", "镇安县永乐街道城关路20号"),
    ("ZA-MKT", "镇安县市场监督管理局", "镇安县永乐街道前街30号"),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志文斌宁波云飞雪梅林海燕"
PRICE_PER_KG = {
    Produce.Category.CHESTNUT: Decimal("36"),
    Produce.Category.WALNUT: Decimal("48"),
    Produce.Category.TEA: Decimal("640"),
    Produce.Category.FUNGI: Decimal("96"),
    Produce.Category.HONEY: Decimal("120"),
    Produce.Category.OTHER: Decimal("40"),
}
EMPLOYEES = 300
DEMO_ORDERS = 60


def _price(sku: Sku) -> Decimal:
    return max(Decimal("9.90"), yuan(sku.unit_weight_kg * PRICE_PER_KG.get(sku.produce.category, Decimal("40"))))


def seed_products(skus) -> list[Product]:
    products = []
    for sku in skus:
        product, _created = Product.objects.get_or_create(
            sku=sku,
            defaults={"name": sku.name, "price": _price(sku), "max_per_order": 5 if sku.produce.category == Produce.Category.TEA else None},
        )
        products.append(product)
    return products


def seed_employers() -> list[Employer]:
    for code, name, address in EMPLOYERS:
        Employer.objects.get_or_create(code=code, defaults={"name": name, "office_address": address})
    return list(Employer.objects.filter(code__in=[c for c, _n, _a in EMPLOYERS]).order_by("code"))


def seed_employees(employers: list[Employer], demo_user=None) -> int:
    """The demo login first (教育局, 工号 0001), then ``EMPLOYEES`` more, spread over the employers."""
    User = get_user_model()
    rng = random.Random(7110)
    first = employers[[e.code for e in employers].index("ZA-EDU")] if any(e.code == "ZA-EDU" for e in employers) else employers[0]
    if demo_user is not None and not Employee.objects.filter(user=demo_user).exists():
        employee_create(user=demo_user, employer=first, staff_number="0001", name=demo_user.get_full_name() or "演示职工")
    wanted = [f"zg{n:04d}" for n in range(1, EMPLOYEES + 1)]
    existing = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
    new_users = []
    for username in wanted:
        if username not in existing:
            user = User(username=username)
            user.set_unusable_password()
            new_users.append(user)
    User.objects.bulk_create(new_users, batch_size=500)
    users = {u.username: u for u in User.objects.filter(username__in=wanted)}
    have = set(Employee.objects.filter(user__in=users.values()).values_list("user_id", flat=True))
    new_employees = []
    for n, username in enumerate(wanted, start=1):
        user = users[username]
        if user.pk in have:
            continue
        employer = employers[n % len(employers)]
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        new_employees.append(Employee(user=user, employer=employer, staff_number=f"{n + 1:04d}", name=name))
    Employee.objects.bulk_create(new_employees, batch_size=500)
    memberships_open_missing()
    roles.ensure_role_groups()
    group = Group.objects.get(name=roles.EMPLOYEE)
    Through = User.groups.through
    in_group = set(Through.objects.filter(group=group).values_list("user_id", flat=True))
    Through.objects.bulk_create([Through(user_id=u.pk, group_id=group.pk) for u in users.values() if u.pk not in in_group])
    return len(new_employees)


def seed_orders(products: list[Product], staff=None) -> int:
    """Completed allocation-only orders over the past weeks, placed through the real services
    (fulfilled by ``staff``, the supermarket's demo login, when given; else left paid)."""
    if Order.objects.filter(employee__employer__code__in=[c for c, _n, _a in EMPLOYERS]).exists():
        return 0
    rng = random.Random(2024)
    employees = list(Employee.objects.filter(user__username__startswith="zg").order_by("pk")[:DEMO_ORDERS])
    today = timezone.localdate()
    now = timezone.now()
    placed = 0
    for i, employee in enumerate(employees):
        basket = rng.sample(products, k=min(len(products), rng.choice((1, 2, 2, 3))))
        for product in basket:
            cart_item_set(employee=employee, product=product, quantity=rng.choice((1, 1, 2)))
        day = max(datetime.date(today.year, 1, 1), today - datetime.timedelta(days=1 + i % 28))
        at = min(now, timezone.make_aware(datetime.datetime.combine(day, datetime.time(9 + i % 8, (7 * i) % 60))))
        try:
            order = checkout_submit(employee=employee, fulfilment=rng.choice(("pickup", "office")), at=at).order
        except Exception:  # out of demo stock or over the balance: this basket is skipped
            from .services.cart import cart_clear

            cart_clear(employee=employee)
            continue
        steps = ["picking", "ready" if order.fulfilment == "pickup" else "delivering", "completed"] if staff else []
        for step in steps:
            order_transition(order=order, to=step, actor=staff, reason="demo")
        placed += 1
    return placed


def seed_counter_day(products: list[Product], cashier=None) -> int:
    """Today's counter (门店收银): cash sales, a few paid from demo employees' allocations (one-time
    QR passes, as at the till), one return, and the till counted — through the counter service."""
    from .models import CounterSale
    from .services.counter import allocation_pass_issue, counter_request_parse, counter_sale_submit, till_count_record
    from .services.orders import order_refund

    if cashier is None or CounterSale.objects.exists():
        return 0
    rng = random.Random(2026)
    buyers = list(Employee.objects.filter(user__username__startswith="zg").order_by("-pk")[:4])
    made = []
    for i in range(10):
        basket = rng.sample(products, k=min(len(products), rng.choice((1, 2, 3))))
        lines = [{"product": p.pk, "quantity": rng.choice((1, 1, 2))} for p in basket]
        total = sum((p.price * ln["quantity"] for p, ln in zip(basket, lines, strict=True)), Decimal("0"))
        cash = yuan((total // 10 + 1) * 10)  # the customer hands over the next round ten
        try:
            token = allocation_pass_issue(employee=buyers[i % len(buyers)]).token if buyers and i % 3 == 0 else ""
            request = counter_request_parse(client_id=f"demo-counter-{i}", lines=lines, cash=cash, allocation_token=token)
            made.append(counter_sale_submit(cashier=cashier, request=request).sale)
        except Exception:  # out of demo stock (or the buyer may not shop today): this basket is skipped
            continue
    if made:
        order = made[-1].order
        line = order.lines.order_by("id").first()
        order_refund(order=order, lines={line.pk: 1}, reason="顾客退货（演示）", actor=cashier, restock=True)
        day = timezone.localdate()
        from .counter_report import counter_day_report

        expected = counter_day_report(day=day).expected_cash
        short = Decimal("0.50") if expected >= Decimal("0.50") else Decimal("0.00")
        till_count_record(day=day, counted=expected - short, author=cashier, note="少五角（演示）" if short else "")
    return len(made)


def seed(*, households: int = 2000, stdout=None, context: dict | None = None) -> dict:
    started = time.perf_counter()
    context = context or {}
    skus = context.get("skus") or list(Sku.objects.all())
    users = context.get("users") or {}
    with transaction.atomic():
        products = seed_products(skus)
        employers = seed_employers()
        created = seed_employees(employers, users.get("employee"))
    setting = allocation_year_current()
    granted = allocation_grant_year(year=setting.year)
    placed = seed_orders([p for p in products if p.active], staff=users.get("shop"))
    counter = seed_counter_day([p for p in products if p.active], cashier=users.get("cashier"))
    if stdout:
        stdout.write(
            f"marketplace: {len(products)} products, {len(employers)} employers, {created} employees added, "
            f"{granted} allocations granted for {setting.year}, {placed} demo orders, {counter} counter sales ({time.perf_counter() - started:.1f} s)"
        )
    return {"products": products, "employers": employers}
