"""User-facing texts of the ingestion area: lead cards, connector notices, /import and /export."""
from __future__ import annotations

from core.texts_registry import TEXTS

TEXTS.update({
    # --- leads from the API -------------------------------------------------------------------
    "lead_card_header": {
        "zh": "🆕 <b>新线索</b>（{source}）· 优先级：<b>{level}</b>（{priority}）{interest}{note}\n请在 {minutes} 分钟内首次联系。",
        "en": "🆕 <b>New lead</b> ({source}) · priority: <b>{level}</b> ({priority}){interest}{note}\nPlease make first contact within {minutes} minutes.",
    },
    "lead_interest": {"zh": "\n意向：{text}", "en": "\nInterested in: {text}"},
    "lead_note": {"zh": "\n留言：{text}", "en": "\nMessage: {text}"},
    "lead_level_high": {"zh": "高", "en": "high"},
    "lead_level_medium": {"zh": "中", "en": "medium"},
    "lead_level_low": {"zh": "低", "en": "low"},
    "lead_repeat": {
        "zh": "🔁 您的客户 <b>{name}</b> 再次通过「{source}」咨询。{interest}{note}",
        "en": "🔁 Your customer <b>{name}</b> enquired again via “{source}”.{interest}{note}",
    },
    "lead_pool": {
        "zh": "🌊 新线索 <b>{name}</b>（{source}）暂无可分配的销售，已进入公海。优先级：{level}。",
        "en": "🌊 New lead <b>{name}</b> ({source}) had no rep available and went to the team pool. Priority: {level}.",
    },
    "lead_first_contact": {"zh": "新线索首次联系（{source}）", "en": "First contact with a new lead ({source})"},
    # --- connectors ----------------------------------------------------------------------------
    "erp_contract": {
        "zh": "📄 ERP：<b>{name}</b> 已签约（订单 {order}，金额 {amount}），阶段已更新为「签约」。",
        "en": "📄 ERP: <b>{name}</b> signed (order {order}, amount {amount}); stage set to “Contract signed”.",
    },
    "erp_payment": {
        "zh": "💰 ERP：<b>{name}</b> 已回款 {paid}（订单 {order}），阶段已更新为「回款」。",
        "en": "💰 ERP: <b>{name}</b> paid {paid} (order {order}); stage set to “Payment collected”.",
    },
    "erp_blocked": {
        "zh": "⚠️ ERP 显示 <b>{name}</b> 已进入「{stage}」，但客户资料缺少：{missing}。请补全后推进阶段。",
        "en": "⚠️ ERP shows <b>{name}</b> reached “{stage}”, but the record lacks: {missing}. Fill them in, then move the stage.",
    },
    "task_aftersales": {"zh": "售后回访：订单 {order} 已交付，了解使用情况", "en": "After-sales visit: order {order} was delivered"},
    "task_upsell": {"zh": "增购提醒：订单 {order} 已回款 {days} 天，可推荐增购/续约", "en": "Upsell: order {order} was paid {days} days ago; propose an add-on or renewal"},
    # --- /import ---------------------------------------------------------------------------------
    "import_help": {
        "zh": ("📥 <b>导入客户</b>\n请直接发送 CSV 或 XLSX 文件（不超过 {mb} MB）。\n"
               "表头可以是：客户名称、姓名/联系人、电话/手机、公司/单位、行业、规模、来源、负责人、备注等。\n"
               "我会先给出预检报告（新客户、重复、无效行），确认后才会导入。"),
        "en": ("📥 <b>Import customers</b>\nSend a CSV or XLSX file (up to {mb} MB).\n"
               "Headers may be: customer, name/contact, phone/mobile, company, industry, size, source, owner, note…\n"
               "You'll get a dry-run report (new, duplicates, invalid rows) first; nothing is imported until you confirm."),
    },
    "import_reading": {"zh": "⏳ 正在读取 {file}…", "en": "⏳ Reading {file}…"},
    "import_too_big": {"zh": "文件太大（{size} MB），上限 {max} MB。", "en": "The file is too large ({size} MB); the limit is {max} MB."},
    "import_bad_file": {"zh": "无法读取这个文件：{reason}", "en": "Could not read this file: {reason}"},
    "import_report": {
        "zh": "📋 <b>导入预检</b>：{file}\n共 {total} 行：✅ 新客户 {new} · 🔁 重复 {dup} · ❌ 无效 {invalid}",
        "en": "📋 <b>Import dry run</b>: {file}\n{total} rows: ✅ new {new} · 🔁 duplicates {dup} · ❌ invalid {invalid}",
    },
    "import_section_new": {"zh": "\n<b>新客户</b>", "en": "\n<b>New customers</b>"},
    "import_section_dup": {"zh": "\n<b>重复（不会导入）</b>", "en": "\n<b>Duplicates (not imported)</b>"},
    "import_section_invalid": {"zh": "\n<b>无效行（不会导入）</b>", "en": "\n<b>Invalid rows (not imported)</b>"},
    "import_line_new": {"zh": "• {where} {name} → {owner}", "en": "• {where} {name} → {owner}"},
    "import_line_dup_db": {"zh": "• {where} {name}：已存在（{existing}，负责人 {owner}，{reason}）",
                           "en": "• {where} {name}: exists ({existing}, owner {owner}, {reason})"},
    "import_line_dup_file": {"zh": "• {where} {name}：与 {other} 重复（{reason}）", "en": "• {where} {name}: same as {other} ({reason})"},
    "import_line_invalid": {"zh": "• {where}：{reasons}", "en": "• {where}: {reasons}"},
    "import_more": {"zh": "  …另有 {n} 行", "en": "  …{n} more rows"},
    "import_pool": {"zh": "公海", "en": "team pool"},
    "import_ask": {"zh": "\n确认导入 {n} 个新客户？", "en": "\nImport the {n} new customers?"},
    "import_nothing": {"zh": "\n没有可导入的新客户。", "en": "\nThere are no new customers to import."},
    "btn_import_ok": {"zh": "✅ 确认导入 {n} 个", "en": "✅ Import {n}"},
    "btn_import_cancel": {"zh": "取消", "en": "Cancel"},
    "import_done": {"zh": "✅ 已导入 {n} 个新客户（批次 #{batch}）。{owners}", "en": "✅ Imported {n} new customers (batch #{batch}). {owners}"},
    "import_cancelled": {"zh": "已取消导入，没有写入任何数据。", "en": "Import cancelled; nothing was written."},
    "import_expired": {"zh": "这个预检报告已过期或已处理，请重新发送文件。", "en": "This dry run expired or was already handled; please send the file again."},
    "import_changed": {
        "zh": "⚠️ 预检之后数据发生了变化（例如有人新建了相同客户），未导入任何数据。请重新发送文件生成新的预检报告。",
        "en": "⚠️ The data changed since the dry run (e.g. someone added one of these customers); nothing was imported. Send the file again for a fresh report.",
    },
    "import_assigned": {"zh": "📥 经理导入了 {n} 个客户给您：{names}", "en": "📥 Your manager imported {n} customers for you: {names}"},
    # --- /export ---------------------------------------------------------------------------------
    "export_busy": {"zh": "⏳ 正在生成导出文件…", "en": "⏳ Building the export…"},
    "export_caption": {"zh": "📤 {team}：{customers} 个客户，{activities} 条跟进记录（{date}）",
                       "en": "📤 {team}: {customers} customers, {activities} activities ({date})"},
})
