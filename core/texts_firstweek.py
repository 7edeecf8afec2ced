"""Texts for the first-week pass (issue 14): invites, undo, the quick-update gate, plain digests."""
from __future__ import annotations

from core.texts import TEXTS

TEXTS.update({
    "invite_created_manager": {
        "zh": "经理邀请链接（仅可使用一次，{hours} 小时内有效）：\n{link}\n\n请发给要管理 <b>{team}</b> 的经理。",
        "en": "Manager invite link (single use, valid for {hours} hours):\n{link}\n\nSend it to the manager joining <b>{team}</b>.",
    },
})
