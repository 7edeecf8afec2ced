"""User-facing texts of the rep's customers: the /new dialogue and its duplicate checks, the lists
and cards, the free-text update's preview, and who owns a customer (/dup, the team pool).

Moved out of core/texts.py without a change: core.texts imports this module at the place where
these texts were, so TEXTS holds the same keys in the same order; ``t(key, ...)`` is unchanged."""
from __future__ import annotations

from core.texts_registry import TEXTS

TEXTS.update({
    # --- /new dialogue -----------------------------------------------------------
    "new_ask_name": {
        "zh": "新建客户（随时发送 /cancel 取消）\n第 1 步：客户称呼或名称？例如：张总 / 华东机械",
        "en": "New customer (send /cancel at any time)\nStep 1: the customer's name? e.g. Mr Zhang / East Machinery",
    },
    "new_ask_company": {
        "zh": "第 2 步：公司名称？（没有请发 -）",
        "en": "Step 2: company name? (send - to skip)",
    },
    "new_ask_phone": {
        "zh": "第 3 步：联系电话？",
        "en": "Step 3: phone number?",
    },
    "new_ask_source": {
        "zh": "第 4 步：线索来源？例如：官网表单 / 外呼 / 转介绍 / 展会",
        "en": "Step 4: lead source? e.g. website form / outbound call / referral / trade show",
    },
    "new_created": {
        "zh": "✅ 已创建客户 <b>{name}</b>（{stage}），资料完整度 {completeness}%。",
        "en": "✅ Customer <b>{name}</b> created ({stage}), data {completeness}% complete.",
    },
    "field_invalid": {
        "zh": "⚠️ {field}：{reason}。请重新输入（/cancel 取消）。",
        "en": "⚠️ {field}: {reason}. Please try again (/cancel to stop).",
    },
    "dup_owned_other": {
        "zh": "⚠️ 该客户已存在：<b>{name}</b>（{company}），负责人 <b>{owner}</b>，保护期至 {until}。\n匹配依据：{reason}。\n已通知经理处理，您无需重复跟进。",
        "en": "⚠️ This customer already exists: <b>{name}</b> ({company}), owned by <b>{owner}</b>, protected until {until}.\nMatched by: {reason}.\nYour manager has been told; no need to work it twice.",
    },
    "dup_owned_self": {
        "zh": "这个客户已经在您名下：<b>{name}</b>（匹配依据：{reason}）。",
        "en": "You already own this customer: <b>{name}</b> (matched by: {reason}).",
    },
    "dup_in_pool": {
        "zh": "该客户在公海中：<b>{name}</b>（匹配依据：{reason}）。可以直接认领：",
        "en": "This customer is in the team pool: <b>{name}</b> (matched by: {reason}). You can claim it:",
    },
    "dup_manager_notice": {
        "zh": "🔔 重复客户：{requester} 试图新建 <b>{name}</b>（{company}），该客户归属 {owner}。匹配依据：{reason}。",
        "en": "🔔 Duplicate: {requester} tried to add <b>{name}</b> ({company}), owned by {owner}. Matched by: {reason}.",
    },
    # --- lists and cards -----------------------------------------------------------
    "customers_header": {"zh": "<b>我的客户</b>（共 {n} 个）", "en": "<b>My customers</b> ({n})"},
    "customers_header_team": {"zh": "<b>团队客户</b>（共 {n} 个）", "en": "<b>Team customers</b> ({n})"},
    "customers_empty": {
        "zh": "您名下还没有客户。发送 /new 新建一个，或 /pool 从公海认领。",
        "en": "You have no customers yet. Send /new to add one, or /pool to claim from the team pool.",
    },
    "today_header": {
        "zh": "☀️ <b>{date} 今日任务</b>（{n} 个客户）\n按优先级排序，点客户名打开任务卡：",
        "en": "☀️ <b>Today, {date}</b> ({n} customers)\nIn priority order; tap a name to open its card:",
    },
    "today_empty": {
        "zh": "今天没有需要跟进的客户 🎉。可以 /pool 认领新客户，或 /new 录入线索。",
        "en": "Nothing to follow up today 🎉. Try /pool to claim customers or /new to add a lead.",
    },
    "today_folded": {
        "zh": "\n另有 {n} 条提醒已合并到此处。",
        "en": "\n{n} more reminders were folded in here.",
    },
    "reason_overdue": {"zh": "已逾期", "en": "overdue"},
    "reason_due": {"zh": "今日跟进", "en": "follow-up due"},
    "reason_stale": {"zh": "阶段停滞", "en": "stale stage"},
    "reason_hot": {"zh": "高意向", "en": "hot"},
    "reason_new": {"zh": "新线索", "en": "new lead"},
    "reason_pool_warn": {"zh": "即将回公海", "en": "returns to pool soon"},
    "card": {
        "zh": ("<b>{name}</b>{company}\n"
               "阶段：{stage}（第 {days} 天 / 预计 {expected} 天）{late}\n"
               "资料完整度：{completeness}%{intent}\n"
               "预计转化：{eta}{prob}\n"
               "{followup}"
               "\n<b>待办清单</b>\n{checklist}\n"
               "\n<b>推荐话术</b>\n{script}\n"
               "\n<b>需提交资料</b>：{materials}"),
        "en": ("<b>{name}</b>{company}\n"
               "Stage: {stage} (day {days} of {expected} expected){late}\n"
               "Data complete: {completeness}%{intent}\n"
               "Expected conversion: {eta}{prob}\n"
               "{followup}"
               "\n<b>Checklist</b>\n{checklist}\n"
               "\n<b>Recommended script</b>\n{script}\n"
               "\n<b>Materials to submit</b>: {materials}"),
    },
    "card_late": {"zh": " ⚠️ 超期", "en": " ⚠️ overdue"},
    "card_followup": {"zh": "下次跟进：{when}\n", "en": "Next follow-up: {when}\n"},
    "card_intent": {"zh": " · 意向：{level}（{score}）", "en": " · intent: {level} ({score})"},
    "card_no_items": {"zh": "（本阶段清单已完成）", "en": "(this stage's checklist is done)"},
    "card_no_script": {"zh": "（暂无）", "en": "(none)"},
    "btn_done": {"zh": "✅ {item}", "en": "✅ {item}"},
    "btn_log": {"zh": "📝 记跟进", "en": "📝 Log"},
    "btn_next": {"zh": "⏭ 下一阶段", "en": "⏭ Next stage"},
    "btn_script": {"zh": "📄 话术", "en": "📄 Script"},
    "btn_later": {"zh": "⏰ 稍后提醒", "en": "⏰ Remind me later"},
    "btn_back": {"zh": "« 返回列表", "en": "« Back to list"},
    "btn_claim": {"zh": "认领 {name}", "en": "Claim {name}"},
    "btn_fill": {"zh": "✏️ 填写{field}", "en": "✏️ Fill in {field}"},
    "btn_confirm": {"zh": "✅ 确认保存", "en": "✅ Confirm"},
    "btn_cancel": {"zh": "✖️ 取消", "en": "✖️ Cancel"},
    "btn_prev_page": {"zh": "‹ 上一页", "en": "‹ Prev"},
    "btn_next_page": {"zh": "下一页 ›", "en": "Next ›"},
    "later_options": {"zh": "什么时候提醒您？", "en": "When should I remind you?"},
    "later_set": {"zh": "⏰ 好的，{when} 提醒您跟进 {name}。", "en": "⏰ OK, I'll remind you about {name} at {when}."},
    "reminder": {
        "zh": "⏰ 提醒：该跟进 <b>{name}</b> 了。{note}",
        "en": "⏰ Reminder: time to follow up <b>{name}</b>. {note}",
    },
    "item_done": {"zh": "已完成：{item}", "en": "Done: {item}"},
    "item_done_points": {"zh": "已完成：{item}（+{points} 分）", "en": "Done: {item} (+{points} pts)"},
    "item_already": {"zh": "这一项已经完成过了。", "en": "That item was already done."},
    "item_needs_fields": {
        "zh": "这一项需要先填写：{fields}",
        "en": "This item needs these fields first: {fields}",
    },
    "stage_moved": {"zh": "⏭ {name} 已进入「{stage}」。", "en": "⏭ {name} moved to “{stage}”."},
    "stage_won": {"zh": "🎉 {name} 已完成回款，成交！", "en": "🎉 {name}: payment collected, deal won!"},
    "stage_blocked": {
        "zh": "⛔ 还不能推进 <b>{name}</b>：缺少必填项 {missing}。\n请点下方按钮补全：",
        "en": "⛔ Cannot move <b>{name}</b> yet: missing {missing}.\nTap below to fill them in:",
    },
    "fill_ask": {
        "zh": "请输入 <b>{name}</b> 的{field}（/cancel 取消）：",
        "en": "Please enter {field} for <b>{name}</b> (/cancel to stop):",
    },
    "fill_saved": {
        "zh": "已保存{field}。资料完整度 {completeness}%。",
        "en": "Saved {field}. Data {completeness}% complete.",
    },
    "log_ask": {
        "zh": "请输入跟进内容，可以带下次跟进时间，例如：<code>电话沟通，客户要看方案 周五回访</code>（/cancel 取消）",
        "en": "Describe the follow-up; you may add the next date, e.g. <code>called, wants a proposal, revisit Friday</code> (/cancel to stop)",
    },
    "log_saved": {
        "zh": "📝 已记录跟进：{name}。{next}",
        "en": "📝 Follow-up logged for {name}. {next}",
    },
    "log_next": {"zh": "下次跟进：{when}。", "en": "Next follow-up: {when}."},
    "usage_log": {"zh": "用法：/log 客户名 跟进内容", "en": "Usage: /log CUSTOMER what happened"},
    "usage_stage": {"zh": "用法：/stage 客户名", "en": "Usage: /stage CUSTOMER"},
    "usage_owner": {"zh": "用法：/dup 公司名或电话（或直接发「查重 公司名」）", "en": "Usage: /dup COMPANY-OR-PHONE"},
    "no_match": {"zh": "没有找到名为「{q}」的客户。", "en": "No customer matches “{q}”."},
    "pick_customer": {"zh": "有几个客户匹配「{q}」，请选择：", "en": "Several customers match “{q}”; which one?"},
    # --- free text update -------------------------------------------------------------
    "update_preview": {
        "zh": "要这样记录吗？\n客户：<b>{name}</b>\n{lines}",
        "en": "Save this update?\nCustomer: <b>{name}</b>\n{lines}",
    },
    "update_line_amount": {"zh": "金额：{amount}", "en": "Amount: {amount}"},
    "update_line_next": {"zh": "下次跟进：{when}", "en": "Next follow-up: {when}"},
    "update_line_stage": {"zh": "阶段 → {stage}", "en": "Stage → {stage}"},
    "update_line_note": {"zh": "备注：{note}", "en": "Note: {note}"},
    "update_saved": {"zh": "✅ 已保存。", "en": "✅ Saved."},
    "update_expired": {"zh": "这条待确认的更新已过期，请重新发送。", "en": "This pending update expired; please send it again."},
    "not_understood": {
        "zh": "我没看懂这句话 🤔。可以这样写：<code>张总 已报价5万 下周二回访</code>，或粘贴聊天记录，或发送 /help。",
        "en": "I didn't understand that 🤔. Try: <code>Zhang quoted 50k revisit next Tuesday</code>, paste a chat, or send /help.",
    },
    # --- owner / pool ------------------------------------------------------------
    "owner_free": {"zh": "✅ 「{q}」未被任何人跟进，可以新建。", "en": "✅ “{q}” is free: nobody works it."},
    "owner_taken": {
        "zh": "🔒 <b>{name}</b>（{company}）归属 <b>{owner}</b>，保护期至 {until}。匹配依据：{reason}。",
        "en": "🔒 <b>{name}</b> ({company}) is owned by <b>{owner}</b>, protected until {until}. Matched by: {reason}.",
    },
    "owner_pool": {
        "zh": "🌊 <b>{name}</b>（{company}）在公海中，可以认领。匹配依据：{reason}。",
        "en": "🌊 <b>{name}</b> ({company}) is in the team pool and can be claimed. Matched by: {reason}.",
    },
    "pool_header": {"zh": "<b>公海客户</b>（{n} 个，可认领）", "en": "<b>Team pool</b> ({n}, claimable)"},
    "pool_empty": {"zh": "公海里暂时没有客户。", "en": "The team pool is empty."},
    "claimed": {"zh": "✅ 已认领 <b>{name}</b>，保护期至 {until}。", "en": "✅ Claimed <b>{name}</b>, protected until {until}."},
    "claim_refused": {"zh": "无法认领：{reason}", "en": "Cannot claim: {reason}"},
    "pool_warning": {
        "zh": "⚠️ <b>{name}</b> 将于 {when} 回到公海（{days} 天未跟进）。记录一次跟进即可延长保护期。",
        "en": "⚠️ <b>{name}</b> returns to the team pool on {when} (no follow-up for {days} days). Log a follow-up to keep it.",
    },
    "pool_released": {
        "zh": "🌊 <b>{name}</b> 因长期未跟进已回到公海。",
        "en": "🌊 <b>{name}</b> went back to the team pool after no follow-up.",
    },
})
