"""User-facing texts of the conversation reader: what a text is when it is not (only) a sales
conversation (nlp.analyze.Analysis.kind)."""
from __future__ import annotations

from core.texts_registry import TEXTS

TEXTS.update({
    "nlp_kind_complaint": {
        "zh": "\n⚠️ 这更像<b>售后投诉</b>，不是购买意向：请转售后/客服跟进，先解决问题再谈其他。",
        "en": "\n⚠️ This reads as an <b>after-sales complaint</b>, not buying interest: hand it to support and fix the problem first.",
    },
    "nlp_kind_service": {
        "zh": "\nℹ️ 这更像<b>服务咨询</b>（账号、发票、物流、使用），不是购买意向：按客服流程处理。",
        "en": "\nℹ️ This reads as a <b>service question</b> (account, invoice, delivery, usage), not buying interest.",
    },
    "nlp_kind_job": {"zh": "\nℹ️ 这是<b>求职/招聘</b>相关的消息，不是销售对话。",
                     "en": "\nℹ️ This is about a <b>job</b>, not a sales conversation."},
    "nlp_kind_spam": {"zh": "\nℹ️ 这看起来是<b>广告或垃圾信息</b>，不是销售对话。",
                      "en": "\nℹ️ This looks like <b>spam</b>, not a sales conversation."},
    "nlp_kind_chitchat": {"zh": "\nℹ️ 这是<b>闲聊</b>，没有谈到生意，不计购买意向。",
                          "en": "\nℹ️ This is <b>small talk</b> with no business in it; no buying intent."},
    "nlp_kind_other": {"zh": "\nℹ️ 这段文字不像销售对话，不计购买意向。",
                       "en": "\nℹ️ This does not read as a sales conversation; no buying intent."},
    "nlp_kind_one_sided": {
        "zh": "\nℹ️ 只有一方的消息，也不知道是不是客户本人：分数仅供参考，最高为「中」。",
        "en": "\nℹ️ Only one side's messages, and not known to be the customer's: the score is indicative and at most medium.",
    },
})
