"""What a text is when it is not (only) a sales conversation: after-sales complaints, service
questions, job seekers, spam, chit-chat (the families live in nlp/clauses.py)."""
from __future__ import annotations

from nlp import clauses
from nlp.parse import ROLE_REP, Transcript

# What a text that is not a sales conversation is, said plainly (the card shows it).
KIND_NOTES = {
    "complaint": "这更像售后投诉，不是购买意向：建议转售后/客服跟进，先回应问题再谈其他。",
    "service": "这更像服务咨询（账号、发票、物流、使用问题），不是购买意向：按客服流程处理。",
    "job": "这是求职/招聘相关的消息，不是销售对话。",
    "spam": "这看起来是广告或垃圾信息，不是销售对话。",
    "chitchat": "这是闲聊，没有谈到生意，不计购买意向。",
    "other": "这段文字不像销售对话，不计购买意向。",
    "one_sided": "只有一方的消息，也不知道是不是客户本人：分数仅供参考，最高为「中」。",
}


def kind_of(transcript: Transcript, views: list, customer_views: list) -> str:
    """sales, or what else the text is: after-sales complaint, service question, job, spam,
    chit-chat. A chat that mixes a complaint with buying steps stays a sales chat."""
    buying = sum(1 for v in customer_views
                 if not v.service and any(h.entry.kind == "buy" and h.entry.weight >= 8 for h in v.hits))
    served = [v.service for v in customer_views if v.service]
    if served and len(served) >= buying:
        return "complaint" if "complaint" in served else "service"
    side = customer_views or [v for v in views if v.turn.role != ROLE_REP] or views
    other = clauses.non_sales_kind("\n".join(v.text for v in side))
    if other == "chitchat":
        all_text = "\n".join(v.text for v in views)
        if clauses.non_sales_kind(all_text) != "chitchat" or any(v.hits for v in views):
            return "sales"
    if other and buying == 0:
        return other
    return "sales"
