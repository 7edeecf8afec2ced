"""User-facing texts of team boundaries and people's lifecycle (issue 11): invites, access ended,
cross-team lookups, /team, hand-over notices, the audit trail."""
from __future__ import annotations

from core.texts_registry import COMMANDS, TEXTS

TEXTS.update({
    # --- invites and access ---------------------------------------------------------------------
    "invite_refused_member": {
        "zh": "您已是 <b>{team}</b> 的成员（{role}）。邀请链接不会改变您的团队或角色：更换团队或角色需由经理或管理员在 /team 中操作。",
        "en": "You are already a member of <b>{team}</b> ({role}). An invite link does not change your team or role: a manager or admin does that in /team.",
    },
    "invite_refused_deactivated": {
        "zh": "您的账号已停用，邀请链接无法恢复它。如需恢复，请联系管理员。",
        "en": "Your account has been deactivated and an invite link cannot restore it. Please contact an admin.",
    },
    "invite_role_invalid": {
        "zh": "用法：/invite 或 /invite manager（仅管理员可邀请经理）；管理员可指定团队：/invite rep 团队名",
        "en": "Usage: /invite or /invite manager (only admins invite managers); admins may name a team: /invite rep TEAM",
    },
    "invite_team_created": {
        "zh": "（新团队 <b>{team}</b> 已创建。）",
        "en": "(New team <b>{team}</b> created.)",
    },
    "access_ended": {
        "zh": "您的账号已停用，无法再使用本销售助手。您的客户已交由同事跟进。如有疑问，请联系经理或管理员。",
        "en": "Your account has been deactivated, so you can no longer use this sales assistant. Your customers were handed to colleagues. Please contact your manager or an admin with any questions.",
    },
    "access_ended_short": {
        "zh": "您的账号已停用，无法操作。如有疑问请联系经理。",
        "en": "Your account has been deactivated. Please contact your manager.",
    },
    # --- /查重 across teams -----------------------------------------------------------------------
    "owner_other_team": {
        "zh": "🔒 已由 <b>{team}</b> 的 <b>{owner}</b> 跟进，保护期至 {until}。匹配依据：{reason}。\n如需协同，请联系对方团队经理。",
        "en": "🔒 Already worked by <b>{owner}</b> of <b>{team}</b>, protected until {until}. Matched by: {reason}.\nTo coordinate, contact that team's manager.",
    },
    "owner_other_team_pool": {
        "zh": "🔒 在 <b>{team}</b> 的公海中。匹配依据：{reason}。如需协同，请联系对方团队经理。",
        "en": "🔒 In the pool of <b>{team}</b>. Matched by: {reason}. To coordinate, contact that team's manager.",
    },
    "owner_cross_team_hint": {
        "zh": "（其他团队的客户仅按完整电话、完整公司名或同一集团/分子公司查询。）",
        "en": "(Other teams' customers are matched only by a full phone number, a full company name or the same group.)",
    },
    "dup_other_team_vague": {
        "zh": "⚠️ 这个客户可能已由其他团队跟进，暂不能新建。请联系您的经理协调。",
        "en": "⚠️ This customer may already be worked by another team, so it was not created. Please ask your manager to coordinate.",
    },
    "lookup_limited": {
        "zh": "查询太频繁：每人每小时最多 {n} 次。请稍后再试。",
        "en": "Too many lookups: at most {n} per person per hour. Please try again later.",
    },
})

TEXTS.update({
    # --- hand-over ------------------------------------------------------------------------------
    "handover_received": {
        "zh": "📥 <b>客户交接</b>：{leaver} 的 {n} 个客户已交给您跟进（保护期重新计算），相关待办和提醒也一并转给您：\n{list}\n\n在 /customers 中查看。",
        "en": "📥 <b>Hand-over</b>: {n} customers of {leaver} are now yours (protection restarted), with their open tasks and reminders:\n{list}\n\nSee /customers.",
    },
})

TEXTS.update({
    # --- /team ----------------------------------------------------------------------------------
    "moved_to_team": {
        "zh": "🔀 您已被调到 <b>{team}</b>。之前团队的客户按经理的安排处理。",
        "en": "🔀 You have been moved to <b>{team}</b>. Your previous team's customers were handled as your manager decided.",
    },
    "team_pick": {"zh": "👥 选择要管理的团队：", "en": "👥 Which team?"},
    "team_header": {"zh": "👥 <b>{team}</b> · {n} 人\n点按成员查看、调岗或停用。", "en": "👥 <b>{team}</b> · {n} people\nTap a member to view, move or deactivate."},
    "team_line": {
        "zh": "{icon} <b>{name}</b> · {role} · {status} · 客户 {customers} · 最近活动 {last}",
        "en": "{icon} <b>{name}</b> · {role} · {status} · {customers} customers · last active {last}",
    },
    "team_status_active": {"zh": "在职", "en": "active"},
    "team_status_blocked": {"zh": "已屏蔽机器人", "en": "blocked the bot"},
    "team_status_deactivated": {"zh": "已停用", "en": "deactivated"},
    "team_member": {
        "zh": "👤 <b>{name}</b>\n团队：{team} · 角色：{role} · 状态：{status}\n持有客户：{customers} · 待办：{tasks} · 最近活动：{last}",
        "en": "👤 <b>{name}</b>\nTeam: {team} · role: {role} · status: {status}\nCustomers: {customers} · open tasks: {tasks} · last active: {last}",
    },
    "btn_team_make_manager": {"zh": "⬆️ 设为经理", "en": "⬆️ Make manager"},
    "btn_team_make_rep": {"zh": "⬇️ 设为销售", "en": "⬇️ Make rep"},
    "btn_team_move": {"zh": "🔀 调到其他团队", "en": "🔀 Move to another team"},
    "btn_team_off": {"zh": "⛔ 停用并交接", "en": "⛔ Deactivate and hand over"},
    "btn_team_reactivate": {"zh": "♻️ 恢复访问", "en": "♻️ Reactivate"},
    "btn_team_back": {"zh": "« 成员列表", "en": "« Members"},
    "btn_team_confirm": {"zh": "✅ 确认", "en": "✅ Confirm"},
    "btn_team_to": {"zh": "交给 {name}", "en": "To {name}"},
    "btn_team_split": {"zh": "平均分给全组（{n} 人）", "en": "Split across the team ({n})"},
    "btn_team_pool": {"zh": "放入公海", "en": "To the pool"},
    "btn_team_keep": {"zh": "随人带到新团队", "en": "Keep them (move with the person)"},
    "team_off_choose": {
        "zh": "⛔ 停用 <b>{name}</b>：立即结束其访问。\n其 {customers} 个客户及 {tasks} 项待办/提醒交给谁？积分与历史记录保留原作者。",
        "en": "⛔ Deactivate <b>{name}</b>: access ends at once.\nWho receives their {customers} customers and {tasks} open tasks/reminders? Points and history stay attributed.",
    },
    "team_off_confirm": {
        "zh": "确认停用 <b>{name}</b>，并将 {customers} 个客户及待办{target}？",
        "en": "Deactivate <b>{name}</b> and hand {customers} customers and their tasks {target}?",
    },
    "team_target_to": {"zh": "交给 {names}", "en": "to {names}"},
    "team_target_split": {"zh": "平均分给 {names}", "en": "split across {names}"},
    "team_target_pool": {"zh": "放入公海（按公海规则重新开始）", "en": "to the pool (pool rules start again)"},
    "team_target_keep": {"zh": "随人转入新团队", "en": "along into the new team"},
    "team_off_done": {
        "zh": "✅ 已停用 <b>{name}</b>，访问已结束。\n交接：{summary}\n新负责人已各收到一份清单。",
        "en": "✅ <b>{name}</b> is deactivated; access has ended.\nHand-over: {summary}\nEach new owner got one message listing what they received.",
    },
    "team_summary_to": {"zh": "{name} {n} 个客户", "en": "{name}: {n} customers"},
    "team_summary_pool": {"zh": "公海 {n} 个客户", "en": "pool: {n} customers"},
    "team_summary_tasks": {"zh": "待办/提醒 {n} 项", "en": "{n} tasks/reminders"},
    "team_summary_none": {"zh": "没有客户需要交接", "en": "no customers to hand over"},
    "team_move_choose": {"zh": "🔀 将 <b>{name}</b> 调到哪个团队？", "en": "🔀 Move <b>{name}</b> to which team?"},
    "team_move_customers": {
        "zh": "🔀 <b>{name}</b> → <b>{team}</b>。其 {customers} 个客户怎么处理？",
        "en": "🔀 <b>{name}</b> → <b>{team}</b>. What happens to their {customers} customers?",
    },
    "team_move_confirm": {
        "zh": "确认将 <b>{name}</b> 调到 <b>{team}</b>，客户{target}？",
        "en": "Move <b>{name}</b> to <b>{team}</b>, customers {target}?",
    },
    "team_move_done": {"zh": "✅ <b>{name}</b> 已调到 <b>{team}</b>。{summary}", "en": "✅ <b>{name}</b> moved to <b>{team}</b>. {summary}"},
    "team_no_other_team": {"zh": "还没有其他团队。管理员可用 /invite manager 团队名 创建。", "en": "There is no other team yet. An admin creates one with /invite manager TEAM."},
    "team_role_done": {"zh": "✅ <b>{name}</b> 现在是{role}。", "en": "✅ <b>{name}</b> is now a {role}."},
    "team_reactivated": {
        "zh": "♻️ 已恢复 <b>{name}</b> 的访问。之前交接出去的客户不会自动退回。",
        "en": "♻️ <b>{name}</b> can use the bot again. Customers handed over earlier are not given back automatically.",
    },
    "team_error_forbidden": {"zh": "您无权对这位成员做此操作。", "en": "You may not do that for this member."},
    "team_error_not_found": {"zh": "找不到这位成员或团队。", "en": "Member or team not found."},
    "team_error_bad_target": {"zh": "接收人无效：必须是同一团队在职的成员。", "en": "Invalid recipient: must be an active member of the same team."},
    "team_error_same": {"zh": "没有变化（可能已被他人处理）。", "en": "Nothing changed (perhaps someone else already did it)."},
    "team_error_last_admin": {"zh": "不能停用最后一位管理员。", "en": "The last admin cannot be deactivated."},
    "team_error_not_deactivated": {"zh": "这位成员没有被停用。", "en": "This member is not deactivated."},
    "team_error_deactivated": {"zh": "这位成员已停用。", "en": "This member is already deactivated."},
})
COMMANDS.update({
    "team": ("团队成员与离职交接（经理）", "Team members and offboarding (managers)"),
    "audit": ("审计记录（管理员）", "Audit trail (admins)"),
})

TEXTS.update({
    # --- the digest -----------------------------------------------------------------------------
    "digest_people": {"zh": "👋 <b>人员变动</b>：{items}", "en": "👋 <b>People</b>: {items}"},
    "digest_people_left": {"zh": "{name} 离职，{n} 个客户已交接（{team}）", "en": "{name} left; {n} customers handed over ({team})"},
    "digest_people_pool": {"zh": "公海", "en": "pool"},
    "digest_people_moved_out": {"zh": "{name} 调到 {team}（移交 {n} 个客户）", "en": "{name} moved to {team} ({n} customers handed over or taken along)"},
    "digest_people_moved_in": {"zh": "{name} 从 {team} 调入（带来 {n} 个客户）", "en": "{name} joined from {team} (brought {n} customers)"},
})

TEXTS.update({
    # --- /audit ---------------------------------------------------------------------------------
    "audit_empty": {"zh": "审计记录为空。", "en": "The audit trail is empty."},
    "audit_header": {"zh": "🧾 <b>审计记录</b>（共 {total} 条，第 {page}/{pages} 页，最新在前）", "en": "🧾 <b>Audit trail</b> ({total} entries, page {page}/{pages}, newest first)"},
    "audit_line": {"zh": "{at} · <b>{kind}</b> · {actor}{subject} · {detail}", "en": "{at} · <b>{kind}</b> · {actor}{subject} · {detail}"},
    "audit_operator": {"zh": "运维/系统", "en": "operator/system"},
    "audit_exported": {"zh": "🧾 审计记录导出（{day}）。本次导出也已记入审计。", "en": "🧾 Audit trail export ({day}). This export is on the trail too."},
    "btn_audit_export": {"zh": "⬇️ 导出 CSV", "en": "⬇️ Export CSV"},
    "audit_kind_invite_created": {"zh": "创建邀请", "en": "invite created"},
    "audit_kind_invite_redeemed": {"zh": "通过邀请加入", "en": "invite redeemed"},
    "audit_kind_invite_refused": {"zh": "邀请被拒", "en": "invite refused"},
    "audit_kind_role_changed": {"zh": "角色变更", "en": "role changed"},
    "audit_kind_team_changed": {"zh": "调岗", "en": "team changed"},
    "audit_kind_deactivated": {"zh": "停用", "en": "deactivated"},
    "audit_kind_reactivated": {"zh": "恢复", "en": "reactivated"},
    "audit_kind_handover": {"zh": "客户交接", "en": "hand-over"},
    "audit_kind_lookup": {"zh": "查重", "en": "lookup"},
    "audit_kind_export": {"zh": "导出", "en": "export"},
})
