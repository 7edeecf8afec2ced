"""Five messy spreadsheets, like the ones managers really have (run to write them here).

Title rows above the header, headers in Chinese/English with notes, numbers stored as floats,
full-width digits, +86 and spaces in phones, blank and totals rows, a header repeated mid-sheet,
two worksheets in one workbook, an owner column, unknown columns, dates, a formula-looking name,
and duplicates across the files (by phone, by company group) and against the database.

    python tests/data/sheets/make_sheets.py        # writes the five .xlsx files next to this script
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

FILES = ["官网线索.xlsx", "外呼名单.xlsx", "展会名片.xlsx", "转介绍.xlsx", "历史导出.xlsx"]


def _sheet(wb, title, rows, first=False):
    ws = wb.active if first else wb.create_sheet()
    ws.title = title
    for r, row in enumerate(rows, 1):
        for c, value in enumerate(row, 1):
            if value is None:
                continue
            cell = ws.cell(row=r, column=c, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text that only looks like a formula
    return ws


def make_sheets(target: Path) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    paths = []

    wb = Workbook()
    ws = _sheet(wb, "线索", [
        ["2026年11月官网线索汇总"],
        [],
        ["姓名", "手机", "公司名称", "所属行业", "规模", "备注"],
        ["  张伟 ", "+86 138-0013-8000", "华东精密机械(苏州)有限公司", "机械加工", "200人", "想要报价"],
        ["李娜", 13912345678, "蓝海软件", "SaaS", "50-199人", None],
        [],
        ["王芳", "１３７００００００１１", "  星辰教育  ", "教育培训", None, "咨询试用"],
        ["测试", "13600000000", "测试公司", None, None, None],
        ["合计", 4],
    ], first=True)
    ws.merge_cells("A1:F1")
    paths.append(target / FILES[0])
    wb.save(paths[-1])

    wb = Workbook()
    _sheet(wb, "Sheet1", [
        ["Contact", "Mobile", "Company", "Industry", "来源"],
        ["张伟", 13800138000.0, "华东精密机械有限公司", "制造", "外呼"],
        ["赵强", "12345", "远航物流", "物流", "电话推销"],
        ["钱多多", "13511112222", "华东精密机械集团", None, "外呼"],
        ["孙悟", "021-6488 1234", "花果山科技有限公司", "IT", "cold call"],
        ["陈老板", "13912340000", "华南贸易", None, "外呼"],
    ], first=True)
    paths.append(target / FILES[1])
    wb.save(paths[-1])

    wb = Workbook()
    _sheet(wb, "第一天", [
        ["联系人", "电话（必填）", "单位", "来源"],
        ["周杰", "13622223333", "光明医疗器械", "展会"],
        ["吴敏", None, None, "展会"],
        ["联系人", "电话（必填）", "单位", "来源"],
        ["郑和", "13733334444", "海洋航运", "展会"],
    ], first=True)
    _sheet(wb, "第二天", [
        ["联系人", "手机", "单位"],
        ["周杰", "136 2222 3333", "光明医疗", None],
        ["冯雪", "13844445555", "冰雪零售连锁"],
    ])
    paths.append(target / FILES[2])
    wb.save(paths[-1])

    wb = Workbook()
    _sheet(wb, "名单", [
        ["客户名称", "联系人", "联系方式", "公司", "负责人", "采购频次", "预算"],
        ["宏达机电", "何总", "13955556666", "宏达机电有限公司", "张三", "每月", "5万"],
        ["瑞丰食品", "林经理", "13966667777", "瑞丰食品", "王五", None, None],
        ["蓝海", "李娜", None, "蓝海软件有限公司", None, None, None],
        ["=1+1", "=cmd|' /C calc'!A0", "13977778888", None, None, "每季度", None],
    ], first=True)
    paths.append(target / FILES[3])
    wb.save(paths[-1])

    wb = Workbook()
    _sheet(wb, "导出", [
        ["导出时间：2026-11-01"],
        ["系统：旧CRM"],
        ["编号", "客户", "手机号码", "企业名称", "行业类别", "员工数", "创建日期", "无关列"],
        ["C001", "宏达机电", None, "宏达机电股份有限公司", "机电", 800, datetime(2025, 3, 1), "x"],
        ["C002", "老周", "13912340000 / 13800000000", None, None, None, None, None],
        ["C003", "新天地地产", "(0755) 8888-9999", "新天地地产", "房地产", "1.2万", datetime(2024, 7, 9), None],
        ["C004", None, None, None, "教育", None, None, None],
    ], first=True)
    paths.append(target / FILES[4])
    wb.save(paths[-1])
    return paths


if __name__ == "__main__":
    for path in make_sheets(Path(__file__).resolve().parent):
        print(path)
