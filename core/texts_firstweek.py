"""Texts for the first-week pass (issue 14): invites, undo, the quick-update gate, plain digests."""
from __future__ import annotations

from core.texts import TEXTS

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
    "undo_hint": {"zh": "（{minutes} 分钟内可撤销）", "en": "(undo possible for {minutes} minutes)"},
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
