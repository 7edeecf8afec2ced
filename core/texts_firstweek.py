"""Texts for the first-week pass (issue 14): invites, undo, the quick-update gate, plain digests."""
from __future__ import annotations

from core.texts_registry import TEXTS

TEXTS.update({
    "invite_created_manager": {
        "zh": "经理邀请链接（仅可使用一次，{hours} 小时内有效）：\n{link}\n\n请发给要管理 <b>{team}</b> 的经理。",
        "en": "Manager invite link (single use, valid for {hours} hours):\n{link}\n\nSend it to the manager joining <b>{team}</b>.",
    },
})

TEXTS.update({
    # --- quick update: the gate before the preview, and what was saved -----------------------------
    "update_line_gate": {
        "zh": "⛔ 推进到「{stage}」前需补全：{missing}（点下方按钮填写，或先只保存其余内容）",
        "en": "⛔ Before “{stage}”, fill in: {missing} (tap below, or save the rest without the move)",
    },
    "btn_save_without_stage": {"zh": "✅ 保存，暂不推进", "en": "✅ Save, don't move"},
    "update_saved_what": {"zh": "✅ 已保存 {name}：{parts}", "en": "✅ Saved for {name}: {parts}"},
    "saved_amount": {"zh": "金额 {amount}", "en": "amount {amount}"},
    "saved_next": {"zh": "下次跟进 {when}", "en": "next follow-up {when}"},
    "saved_stage": {"zh": "阶段 → {stage}", "en": "stage → {stage}"},
    "saved_note": {"zh": "跟进记录", "en": "follow-up note"},
    "saved_stage_held": {"zh": "阶段未变（还缺 {missing}）", "en": "stage unchanged (still missing {missing})"},
    "undo_hint": {"zh": "（{minutes} 分钟内可撤销）", "en": " (undo possible for {minutes} minutes)"},
    # --- undo --------------------------------------------------------------------------------------
    "btn_undo": {"zh": "↩️ 撤销", "en": "↩️ Undo"},
    "undo_done": {"zh": "↩️ 已撤销对 {name} 的{what}。", "en": "↩️ Undid the {what} of {name}."},
    "undo_what_update": {"zh": "更新", "en": "update"},
    "undo_what_stage": {"zh": "阶段推进", "en": "stage move"},
    "undo_expired": {"zh": "已超过 {minutes} 分钟，不能再撤销了。", "en": "More than {minutes} minutes have passed; this can no longer be undone."},
    "undo_changed": {"zh": "这个客户之后又有改动，不能撤销这一步了。", "en": "The customer has changed since; this step can no longer be undone."},
    "undo_gone": {"zh": "这一步已经撤销过了。", "en": "This step was already undone."},
    "fill_back_to_draft": {"zh": "已保存{field}。继续确认刚才的更新：", "en": "Saved {field}. Back to your update:"},
})

TEXTS.update({
    # --- cards ---------------------------------------------------------------------------------------
    "btn_more": {"zh": "⋯ 更多", "en": "⋯ More"},
    "card_phone": {"zh": "\n📞 {phone}", "en": "\n📞 {phone}"},
})

TEXTS.update({
    # --- the digest: sentences first, numbers after, every label explained once ---------------------
    "story_yesterday": {"zh": "昨天 {parts}。", "en": "Yesterday: {parts}."},
    "story_quiet": {"zh": "昨天没有新线索、阶段推进或成交。", "en": "Yesterday: no new leads, moves or deals."},
    "story_new": {"zh": "{n} 个新线索", "en": "{n} new leads"},
    "story_moved": {"zh": "{n} 个推进到{stage}", "en": "{n} moved to {stage}"},
    "story_won": {"zh": "{n} 个成交", "en": "{n} won"},
    "story_lost": {"zh": "{n} 个丢单", "en": "{n} lost"},
    "story_lost_why": {"zh": "{n} 个丢单（{reasons}）", "en": "{n} lost ({reasons})"},
    "story_overdue": {"zh": "{n} 个客户已过跟进日期，最久的是 {name}（{owner}，{days} 天）。",
                      "en": "{n} customers are past their follow-up date; the oldest is {name} ({owner}, {days} days)."},
    "story_bottleneck": {"zh": "最卡的阶段是「{stage}」：{current} 个在跟客户中 {stalled} 个超过预计天数。",
                         "en": "Most stuck: “{stage}”, where {stalled} of {current} open customers are past the expected days."},
    "story_active": {"zh": "{total} 名销售中 {active} 人昨天有记录。", "en": "{active} of {total} reps logged work yesterday."},
    "digest_funnel_head": {"zh": "\n<b>漏斗</b>（累计成交 {won}）", "en": "\n<b>Funnel</b> ({won} won so far)"},
    "digest_funnel_row": {"zh": "• {stage}：现有 {current} · 到达 {reached}{conv}{late}",
                          "en": "• {stage}: now {current} · reached {reached}{conv}{late}"},
    "digest_funnel_conv": {"zh": " · 转化 {pct}%", "en": " · {pct}% went on"},
    "digest_funnel_late": {"zh": " · 超期 {n}", "en": " · {n} stalled"},
    "kpi_part": {"zh": "{label} {pct}%", "en": "{label} {pct}%"},
    "kpi_data_completeness": {"zh": "资料完整度", "en": "data completeness"},
    "kpi_target": {"zh": "目标完成", "en": "target"},
    "kpi_compliance": {"zh": "流程合规", "en": "compliance"},
    "kpi_followup": {"zh": "按时跟进", "en": "follow-ups on time"},
    "digest_nobody_behind": {"zh": "无人明显落后", "en": "nobody clearly behind"},
    "digest_legend": {
        "zh": ("\n<i>说明：现有 = 此阶段正在跟进的客户；到达 = 曾到过此阶段的客户；转化 = 到达者中进入下一阶段的比例；"
               "超期 = 停留超过预计天数。动态中「其他」= 对话分析、会议、字段修改、认领等。"
               "KPI = {kpi_parts} 的综合分（0–100）；合规 = 清单按时完成与资料完整推进的比例；"
               "落后 = KPI 低于团队平均 10 分以上。</i>"),
        "en": ("\n<i>Legend: now = open customers in the stage; reached = customers who ever got there; went on = "
               "share of those who reached the next stage; stalled = past the expected days. In activity, “other” = "
               "chat analyses, meetings, field edits, claims and the like. KPI = {kpi_parts} in one 0–100 "
               "score; compliance = items on time and moves with complete data; "
               "behind = KPI at least 10 below the team average.</i>"),
    },
})

TEXTS.update({
    # --- the group board of a small team -----------------------------------------------------------
    "board_team_total": {"zh": "👥 团队合计（{n} 人）：目标完成 <b>{share}%</b>（{points}/{target} 分）· 成交 {deals} · 合规 {compliance}",
                         "en": "👥 Team total ({n} people): <b>{share}%</b> of target ({points}/{target} pts) · deals {deals} · compliance {compliance}"},
    "board_team_total_why": {"zh": "团队不足 {min} 人，群里只显示团队合计；每个人的排名已私信发送。",
                             "en": "Teams under {min} people see the team's total here; everyone got their own rank privately."},
    "board_team_label": {"zh": "团队合计（{n} 人）", "en": "Team total ({n})"},
    "board_team_subtitle": {"zh": "团队整体进度 · 个人排名已私信", "en": "The team's progress · own ranks sent privately"},
})

TEXTS.update({
    # --- the duplicate alert: keep / transfer / merge, in the notice itself ------------------------
    "btn_dup_merge": {"zh": "合并资料", "en": "Merge details"},
    "dup_merged": {"zh": "已合并：<b>{name}</b> 仍由 {owner} 负责；补充了 {fields}，其余内容记为备注。",
                   "en": "Merged: <b>{name}</b> stays with {owner}; filled in {fields}, the rest kept as a note."},
    "dup_merged_note": {"zh": "已合并：<b>{name}</b> 仍由 {owner} 负责；新录入的内容记为备注（没有空缺字段可补）。",
                        "en": "Merged: <b>{name}</b> stays with {owner}; the new details are kept as a note (no empty fields)."},
})

TEXTS.update({
    "welcome_joined_manager": {
        "zh": "欢迎加入 <b>{team}</b>，{name}！\n每个工作日 {digest} 我会把团队的日报发给您。\n先试试 /invite 邀请销售，或 /help 查看全部命令。",
        "en": "Welcome to <b>{team}</b>, {name}!\nEvery workday at {digest} I'll send you the team digest.\nTry /invite to invite a rep, or /help for every command.",
    },
})
