"""User-facing texts of who may use the bot and of what goes wrong: strangers and invites, /start
and /help, the generic errors (a stale button, a card not yours, too long, cancelled).

Moved out of core/texts.py without a change: core.texts imports this module at the place where
these texts were, so TEXTS holds the same keys in the same order; ``t(key, ...)`` is unchanged."""
from __future__ import annotations

from core.texts_registry import TEXTS

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
})
