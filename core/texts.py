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

import core.texts_start  # noqa: E402,F401  (identity: strangers, invites, /start, /help; errors)
import core.texts_customers  # noqa: E402,F401  (/new, lists and cards, free-text update, owner and pool)


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
