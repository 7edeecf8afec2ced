"""Every user-facing text, in Simplified Chinese first and English for language_code "en".

``t(key, lang, **values)`` HTML-escapes every value, so a customer called ``<b>Acme & Co</b>``
can never break a message; pass ``Raw(...)`` for a value that is already safe HTML.
"""
from __future__ import annotations

import html
from typing import Any

from core.plural import english_plurals as _plural  # "1 customer", not "1 customers"
from core.texts_registry import COMMANDS, TEXTS  # noqa: F401  (filled here and by the texts_<area> modules)

Lang = str


class Raw(str):
    """A value that is already HTML-safe (built from escaped parts)."""


_PLAIN = (int, float)  # nothing to escape in a number's text


def esc(value: Any) -> str:
    kind = type(value)
    if kind is Raw:
        return value
    if kind is str:
        return html.escape(value, quote=False) if ("&" in value or "<" in value or ">" in value) else value
    if kind in _PLAIN:
        return str(value)
    if isinstance(value, Raw):
        return value
    return html.escape("" if value is None else str(value), quote=False)


def lang_of(language_code: str | None) -> Lang:
    return "en" if (language_code or "").lower().startswith("en") else "zh"


def t(key: str, lang: Lang = "zh", **values: Any) -> str:
    entry = TEXTS[key]
    template = entry.get(lang) or entry["zh"]
    if lang == "en":
        template, values = _plural(template, values)
    return template.format(**{k: esc(v) for k, v in values.items()})


FIELD_LABELS = {
    "name": ("客户名称", "Customer"),
    "company": ("公司", "Company"),
    "contact": ("联系人", "Contact person"),
    "phone": ("电话", "Phone"),
    "industry": ("行业", "Industry"),
    "size": ("规模", "Size"),
    "source": ("线索来源", "Lead source"),
    "amount": ("金额", "Amount"),
    "next_followup_at": ("下次跟进", "Next follow-up"),
}


def field_label(name: str, lang: Lang = "zh") -> str:
    zh, en = FIELD_LABELS.get(name, (name, name))
    return en if lang == "en" else zh


ROLE_NAMES = {"rep": ("销售", "rep"), "manager": ("经理", "manager"), "admin": ("管理员", "admin")}


def role_name(role: str, lang: Lang = "zh") -> str:
    zh, en = ROLE_NAMES.get(role, (role, role))
    return en if lang == "en" else zh


# Command menu, set with setMyCommands per language and per role scope.
COMMANDS.update({
    "today": ("今日任务卡", "Today's task cards"),
    "customers": ("我的客户", "My customers"),
    "new": ("新建客户", "Add a customer"),
    "log": ("记录跟进", "Log a follow-up"),
    "stage": ("推进阶段", "Move a customer's stage"),
    "dup": ("查重：客户归属（也可直接发「查重 名称」）", "Duplicate check: who owns a customer"),
    "owner": ("客户归属（同 /dup）", "Who owns a customer (same as /dup)"),
    "pool": ("公海客户", "Team pool"),
    "me": ("我的积分与画像", "My points and profile"),
    "meeting": ("登记跨部门技术对接会", "Record a cross-department meeting"),
    "board": ("排行榜", "Leaderboard"),
    "shop": ("积分兑换", "Rewards shop"),
    "invite": ("邀请销售加入（经理）", "Invite a rep (managers)"),
    "digest": ("团队日报（经理）", "Team digest (managers)"),
    "modules": ("SOP 模块试点（经理）", "Pilot SOP modules (managers)"),
    "business": ("Telegram Business 授权", "Telegram Business consent"),
    "import": ("导入表格（经理）", "Import a spreadsheet (managers)"),
    "export": ("导出客户表（经理）", "Export customers (managers)"),
    "help": ("帮助", "Help"),
    "cancel": ("取消当前操作", "Cancel"),
    "bind": ("把排行榜绑定到本群（经理）", "Post leaderboards to this group (managers)"),
    "unbind": ("解除本群绑定（经理）", "Stop posting to this group (managers)"),
})

TEXTS.update({
    # --- identity -------------------------------------------------------------
    "stranger": {
        "zh": "您好！这是团队内部使用的销售助手，需要经理的邀请链接才能加入。请联系您的销售经理获取邀请。",
        "en": "Hello! This is a private sales assistant for a team. You need an invite link from your manager to join.",
    },
    "invite_invalid": {
        "zh": "这个邀请链接无效或已被使用。请向经理重新索取。",
        "en": "This invite link is invalid or has already been used. Please ask your manager for a new one.",
    },
    "invite_expired": {
        "zh": "这个邀请链接已过期。请向经理重新索取。",
        "en": "This invite link has expired. Please ask your manager for a new one.",
    },
    "welcome_joined": {
        "zh": "欢迎加入 <b>{team}</b>，{name}！\n每天早上我会把今日任务卡发给您。\n先试试 /new 新建一个客户，或 /today 查看今日任务。",
        "en": "Welcome to <b>{team}</b>, {name}!\nEvery morning I'll send you today's task cards.\nTry /new to add a customer, or /today for today's tasks.",
    },
    "welcome_back": {
        "zh": "您好，{name}（{role}，{team}）。\n/today 今日任务 · /customers 我的客户 · /new 新建客户 · /help 帮助",
        "en": "Hello, {name} ({role}, {team}).\n/today tasks · /customers my customers · /new add a customer · /help help",
    },
    "invite_created": {
        "zh": "邀请链接（仅可使用一次，{hours} 小时内有效）：\n{link}\n\n请发给要加入 <b>{team}</b> 的销售。",
        "en": "Invite link (single use, valid for {hours} hours):\n{link}\n\nSend it to the rep joining <b>{team}</b>.",
    },
    "invite_role_invalid": {
        "zh": "用法：/invite 或 /invite manager（仅管理员可邀请经理）",
        "en": "Usage: /invite or /invite manager (only admins may invite managers)",
    },
    "manager_only": {
        "zh": "这个命令仅限经理使用。",
        "en": "This command is for managers only.",
    },
    "no_team": {
        "zh": "您还没有加入团队。请使用经理发来的邀请链接。",
        "en": "You are not in a team yet. Please use the invite link from your manager.",
    },
    "help_rep": {
        "zh": ("<b>销售助手使用说明</b>\n"
               "/today 今日任务卡（每天早上自动推送）\n"
               "/customers 我的客户\n/new 新建客户 · /log 记录跟进 · /stage 推进阶段\n"
               "/dup 名称或电话 查询客户归属（也可直接发「查重 名称」）· /pool 公海\n"
               "/me 我的积分与能力画像 · /board 排行榜 · /shop 积分兑换\n"
               "/meeting 客户 参会人/部门 登记跨部门技术对接会（+15 分）\n"
               "/business Telegram Business 授权 · /cancel 取消当前操作 · /help 本说明\n\n"
               "也可以直接发一句话，例如：<code>张总 已报价5万 下周二回访</code>\n"
               "或粘贴/转发与客户的聊天记录，我会分析购买意向和异议。"),
        "en": ("<b>Sales assistant</b>\n"
               "/today today's task cards (sent every morning)\n"
               "/customers my customers\n/new add a customer · /log log a follow-up · /stage move a stage\n"
               "/dup NAME-OR-PHONE who owns a customer · /pool team pool\n"
               "/me points and profile · /board leaderboard · /shop rewards\n"
               "/meeting CUSTOMER attendee/department records a cross-department meeting\n"
               "/business Telegram Business consent · /cancel stop the current step · /help this help\n\n"
               "You can also just write, e.g. <code>Zhang quoted 50k revisit next Tuesday</code>,\n"
               "or paste/forward a chat with a customer for intent and objection analysis."),
    },
    "help_manager_extra": {
        "zh": ("\n\n<b>经理</b>：/invite 邀请销售 · /digest 团队日报 · /bind、/unbind 在群里绑定/解除排行榜\n"
               "/import 发送 Excel/CSV 导入客户（先预览再确认）· /export 导出客户表 · /modules SOP 模块试点"),
        "en": ("\n\n<b>Managers</b>: /invite a rep · /digest team digest · /bind, /unbind a group for leaderboards\n"
               "/import send an Excel/CSV file (preview, then confirm) · /export customers · /modules pilot SOP modules"),
    },
    # --- errors ----------------------------------------------------------------
    "error_generic": {
        "zh": "抱歉，处理时出了点问题，已记录下来。请稍后再试。",
        "en": "Sorry, something went wrong. It has been logged; please try again shortly.",
    },
    "callback_invalid": {
        "zh": "这个按钮已失效，请重新打开。",
        "en": "This button is no longer valid; please reopen the card.",
    },
    "not_yours": {
        "zh": "找不到这个客户，或您无权查看。",
        "en": "Customer not found, or you are not allowed to see it.",
    },
    "cancelled": {"zh": "已取消。", "en": "Cancelled."},
    "too_long": {
        "zh": "内容太长了（{n} 字）。请缩短到 {max} 字以内。",
        "en": "That is too long ({n} characters). Please keep it under {max}.",
    },
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


def tp(key: str, lang: Lang = "zh", **values: Any) -> str:
    """Plain text (buttons, alerts): no HTML parsing happens there, so no escaping either."""
    entry = TEXTS[key]
    template = entry.get(lang) or entry["zh"]
    if lang == "en":
        template, values = _plural(template, values)
    return template.format(**values)


TEXTS.update({
    "paste_too_long": {
        "zh": "聊天记录太长了（{n} 字，上限 {max} 字）。请分段粘贴最近的部分。",
        "en": "That paste is too long ({n} characters, limit {max}). Please paste the most recent part.",
    },
    "paste_garbage": {
        "zh": "这段内容看起来不像和客户的聊天记录 🤔。请粘贴微信/企业微信聊天记录、转发客户消息，或写通话纪要。",
        "en": "That doesn't look like a conversation with a customer 🤔. Paste a WeChat/WeCom chat, forward the customer's messages, or write call notes.",
    },
    "paste_pick": {
        "zh": "这段对话属于哪个客户？",
        "en": "Which customer is this conversation with?",
    },
    "paste_no_customers": {
        "zh": "您还没有客户，先用 /new 新建客户，再粘贴聊天记录。",
        "en": "You have no customers yet; add one with /new, then paste the chat.",
    },
    "analysis": {
        "zh": "🔎 <b>{name}</b> 对话分析\n购买意向：<b>{level}</b>（{score}/100）\n{reasons}{objections}{keywords}",
        "en": "🔎 Conversation with <b>{name}</b>\nPurchase intent: <b>{level}</b> ({score}/100)\n{reasons}{objections}{keywords}",
    },
    "analysis_reasons": {"zh": "\n<b>依据</b>\n{lines}\n", "en": "\n<b>Why</b>\n{lines}\n"},
    "analysis_objections": {"zh": "\n<b>客户顾虑与建议话术</b>\n{lines}\n", "en": "\n<b>Objections and suggested answers</b>\n{lines}\n"},
    "analysis_keywords": {"zh": "\n关键词：{words}", "en": "\nKeywords: {words}"},
    "analysis_busy": {"zh": "⏳ 正在分析…", "en": "⏳ Analysing…"},
})

import core.texts_ingest  # noqa: E402,F401  (ingestion texts: leads, connectors, /import, /export)
import core.texts_incentives  # noqa: E402,F401  (incentives texts: points, /me, /board, /shop, digest, spot-checks)
import core.texts_team  # noqa: E402,F401  (team boundaries: invites, access ended, /team, hand-over, audit)
import core.texts_voice  # noqa: E402,F401  (voice notes, call recordings, the AI assistant)
import core.texts_console  # noqa: E402,F401  (the manager's console: the Mini App's words, its buttons)
import core.texts_intake  # noqa: E402,F401  (intake texts: number and input checks)
import core.texts_coaching  # noqa: E402,F401  (coaching texts: lost reasons, competitors, visits, SOP feedback, review)
import core.texts_firstweek  # noqa: E402,F401  (first-week texts: invites, undo, quick-update gate, plain digests)
import core.texts_nlp  # noqa: E402,F401  (conversation reader: what a text is when it is not sales)
import core.texts_close  # noqa: E402,F401  (close estimate and best contact time on the card)
import core.texts_feedback  # noqa: E402,F401  (analysis feedback: 准 / 不准, the team's agreement)


TEXTS.update({
    "biz_consent_ask": {
        "zh": ("🔗 您把 salesbot 连接到了 Telegram Business。\n"
               "允许我读取您所选聊天中与客户的对话，自动分析购买意向和顾虑吗？\n"
               "分析结果只有您和您的经理可见；您的原话不会展示给其他销售。随时可以发送 /business 撤销。"),
        "en": ("🔗 You connected salesbot to Telegram Business.\n"
               "May I read the customer chats you selected and analyse purchase intent and objections?\n"
               "Only you and your manager see the results; your own words are never shown to other reps. "
               "Send /business to revoke at any time."),
    },
    "biz_granted": {"zh": "✅ 已授权。客户发来的消息会自动分析。", "en": "✅ Granted. Customer messages will be analysed."},
    "biz_declined": {"zh": "好的，不会读取您的 Business 聊天。", "en": "OK, your Business chats will not be read."},
    "biz_revoked": {"zh": "已撤销授权，已删除保存的 Business 聊天内容。", "en": "Consent revoked; stored Business chat content was deleted."},
    "biz_disconnected": {"zh": "Telegram Business 连接已断开，salesbot 不再读取聊天。", "en": "Telegram Business disconnected; salesbot no longer reads chats."},
    "biz_status_none": {"zh": "您还没有把 salesbot 连接到 Telegram Business。", "en": "You have not connected salesbot to Telegram Business."},
    "biz_status": {"zh": "Telegram Business：{state}", "en": "Telegram Business: {state}"},
    "biz_state_granted": {"zh": "已授权分析", "en": "analysis allowed"},
    "biz_state_other": {"zh": "未授权", "en": "not allowed"},
    "btn_biz_grant": {"zh": "✅ 允许", "en": "✅ Allow"},
    "btn_biz_decline": {"zh": "✖️ 不允许", "en": "✖️ Decline"},
    "btn_biz_revoke": {"zh": "撤销授权", "en": "Revoke consent"},
    "biz_pick": {
        "zh": "Business 聊天「{title}」是哪位客户？",
        "en": "Which customer is the Business chat “{title}” with?",
    },
    "biz_linked": {"zh": "已关联到 {name}。", "en": "Linked to {name}."},
    "biz_update": {
        "zh": "💬 Business 聊天 · <b>{name}</b>\n购买意向：<b>{level}</b>（{score}/100）{objections}",
        "en": "💬 Business chat · <b>{name}</b>\nPurchase intent: <b>{level}</b> ({score}/100){objections}",
    },
    "biz_objection_line": {"zh": "\n• {label}\n  💬 {script}", "en": "\n• {label}\n  💬 {script}"},
})


TEXTS.update({
    "btn_dup_keep": {"zh": "保持原负责人", "en": "Keep the owner"},
    "btn_dup_transfer": {"zh": "转给 {name}", "en": "Give to {name}"},
    "dup_decided": {"zh": "已处理：<b>{name}</b> 由 {owner} 负责。", "en": "Done: <b>{name}</b> is owned by {owner}."},
    "modules_header": {
        "zh": "<b>本团队启用的 SOP 模块</b>\n点按切换；未启用模块的清单项不会出现在任务卡中。",
        "en": "<b>SOP modules for your team</b>\nTap to switch; items of modules that are off do not appear on cards.",
    },
})


TEXTS.update({
    "btn_lost": {"zh": "❌ 丢单", "en": "❌ Lost"},
    "btn_lost_yes": {"zh": "确认丢单", "en": "Confirm lost"},
    "lost_confirm": {"zh": "确定把 <b>{name}</b> 标记为丢单吗？", "en": "Mark <b>{name}</b> as lost?"},
    "lost_done": {"zh": "已将 {name} 标记为丢单。", "en": "{name} marked as lost."},
    "paste_who": {"zh": "这段对话里谁是客户？", "en": "Who is the customer in this conversation?"},
    "exit_won": {"zh": "成交", "en": "won"},
    "exit_lost": {"zh": "丢单", "en": "lost"},
    "level_high": {"zh": "高", "en": "high"},
    "level_medium": {"zh": "中", "en": "medium"},
    "level_low": {"zh": "低", "en": "low"},
    "later_2h": {"zh": "2小时后", "en": "in 2 h"},
    "later_tm9": {"zh": "明早9点", "en": "tomorrow 9:00"},
    "later_tm14": {"zh": "明天14点", "en": "tomorrow 14:00"},
    "later_3d": {"zh": "3天后", "en": "in 3 days"},
    "forward_unknown_sender": {"zh": "客户", "en": "customer"},
})

WEEKDAY_ZH = "一二三四五六日"


def format_local_date(local, lang: Lang, with_time: bool = True, today=None, relative: bool = True) -> str:
    """The one convention (core/when.py): 12月1日 周二 10:00 · Tue 1 Dec 10:00; relative when ``today`` is given."""
    from core.when import when_text
    return when_text(local, lang, today, with_time, relative=relative)


# Data-quality and matching reasons (services/cleaning.py, services/company_names.py, services/customers.py, services/pool.py).
TEXTS.update({
    "q_too_long": {"zh": "内容过长（最多 {max} 字）", "en": "too long ({max} characters at most)"},
    "q_junk": {"zh": "「{value}」不是有效内容", "en": "“{value}” is not a real value"},
    "q_phone": {"zh": "不是有效的电话号码", "en": "not a valid phone number"},
    "q_amount": {"zh": "需要一个大于 0 的金额，例如 5万 或 50000", "en": "expected a positive amount, e.g. 50000"},
    "q_date": {"zh": "无法识别的日期", "en": "unrecognised date"},
    "q_date_past": {"zh": "跟进日期不能早于今天", "en": "the follow-up date is in the past"},
    "q_date_far": {"zh": "跟进日期太远（超过 {days} 天）", "en": "the follow-up date is too far ahead (over {days} days)"},
    "q_choice": {"zh": "请从 {choices} 中选择", "en": "choose one of {choices}"},
    "q_name_short": {"zh": "名称太短", "en": "name too short"},
    "q_unknown_field": {"zh": "未知字段", "en": "unknown field"},
    "q_name_required": {"zh": "客户名称必填", "en": "the customer name is required"},
    "q_duplicate_of": {"zh": "与 {owner} 的客户重复", "en": "duplicates a customer of {owner}"},
    "match_phone": {"zh": "电话号码相同", "en": "same phone number"},
    "match_company": {"zh": "公司名称相同", "en": "same company"},
    "match_group": {"zh": "同一集团/分子公司", "en": "same group or subsidiary"},
    "match_fuzzy": {"zh": "公司名称高度相似", "en": "very similar company name"},
    "claim_not_in_pool": {"zh": "客户不存在或不在本团队公海", "en": "not in your team's pool"},
    "claim_has_owner": {"zh": "该客户已有负责人", "en": "this customer already has an owner"},
    "claim_cap": {"zh": "您已持有 {holding} 个客户，达到上限 {cap}", "en": "you hold {holding} customers, the cap is {cap}"},
    "claim_cooldown": {"zh": "您刚释放过该客户，{until} 后才能重新认领", "en": "you released it recently; you may re-claim after {until}"},
})
