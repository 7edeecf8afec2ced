"""User-facing texts of team boundaries and people's lifecycle (issue 11): invites, access ended,
cross-team lookups, /team, hand-over notices, the audit trail."""
from __future__ import annotations

from core.texts import TEXTS

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
