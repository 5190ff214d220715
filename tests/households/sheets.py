"""Build .xlsx files the way the field sends them, for the import tests."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook

from households.excel import COLUMNS

from .factories import valid_id_number

HEADERS = [header for _key, header in COLUMNS]


def sheet_row(village, n: int = 1, **overrides) -> dict:
    """A good row (by header) for ``village``; ``overrides`` by header, e.g. ``{"身份证号": ...}``."""
    row = {
        "户编号": f"T{n:08d}",
        "户主姓名": f"王{n}",
        "身份证号": valid_id_number(n),
        "手机号": f"139{n:08d}",
        "家庭人口": 3,
        "乡镇": village.township.name,
        "村": village.name,
        "劳动能力类别": "有劳动能力",
        "子类别": "放心户",
        "贫困状态": "已脱贫",
        "脱贫年份": 2016,
        "大病残疾户": "否",
        "独居老人户": "否",
        "两头跑搬迁户": "否",
        "收入下降户": "否",
        "边缘户": "否",
        "开户银行": "镇安县农村信用合作联社",
        "收款账号": f"621700001111{n:07d}",
    }
    row.update(overrides)
    return row


def make_xlsx(rows: list[dict], headers: list[str] | None = None) -> io.BytesIO:
    headers = headers or HEADERS
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(h) for h in headers])
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    out.name = "households.xlsx"
    return out


def read_xlsx(content: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    return [list(r) for r in sheet.iter_rows(values_only=True)]
