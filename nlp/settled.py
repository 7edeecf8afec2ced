"""Objections the customer settles later in the chat — they no longer stand at the end.

Two ways (issue 13, the writers' label: "objections the customer says were resolved are left out"):
- a later customer turn commits — pays or decides outright ("65行 定了 付三成定金"): price,
  trust_quality, competitor, need_approval and has_supplier are settled. Budget, timing and no-need
  are left alone: a customer who pays a deposit can still wait for next year's money.
- the customer says the doubt is gone ("好 放心了"): trust_quality is settled.
Neither counts when said on a condition or as a question ("如果合同能分期付款，下个月可以签",
"要是能先试用一个月我就放心了", "我才放心"), nor a turn about payment terms ("付款方式只能月结"),
nor a decision about something else ("定了下周三见面", "预算定了，就5万").
Shared by analyze() (the lexicon's objections) and the model's heads (nlp/model.merge_objections:
a head may not bring back what the customer settled).
"""
from __future__ import annotations

import re
from typing import Protocol, Sequence

from nlp.lexicon import Hit

RESOLVABLE = frozenset(["price", "trust_quality", "competitor", "need_approval", "has_supplier"])
SETTLING = frozenset(["decision_done", "payment"])

# A decision or payment on a condition, or asked: nothing is settled yet.
CONDITIONAL = re.compile(r"如果|要是|假如|假设|的话|只要|除非|能不能|可不可以|能否|[吗么呢][？?]?\s*$|[?？]")
# Committed acts: paid, transferred, a deposit, "就这么定", "定了" (not "定了下周三见面", "定了个时间",
# "预算定了"), signed, ordered.
_COMMITTED = re.compile(r"(?:已经|刚)?(?:付了|打款了?|转账了?|转过去|汇款|交了?定金|付(?:了)?(?:[一二三两四五\d]+成)?定金"
                        r"|就这么定|(?<!预算)(?<!时间)(?<!日子)(?<!价格)定了(?![个下时会吗么])|签了|下单了?|拍了)")
# Payment terms, not a payment ("付款方式我们只能月结", "付款周期是90天", "定金我们一般不付").
_TERMS = re.compile(r"方式|周期|条件|月结|账期|货到付款|不付|一般")
# The customer says the doubt is gone; "不放心了", "我才放心" are no such words.
REASSURED = re.compile(r"(?<![不没才])(?:放心了|放心啦|安心了)|顾虑(?:打消|没了|消除)|没(?:有)?(?:顾虑|什么担心)了")
_BREAK = re.compile(r"[，。！？!?；;,\n]")


class _Turn(Protocol):
    index: int
    text: str
    hits: list[Hit]


def reassures(text: str) -> bool:
    """Does the text say a doubt is gone — not on a condition ("要是能先试用我就放心了")?"""
    for m in REASSURED.finditer(text):
        starts = [b.end() for b in _BREAK.finditer(text, 0, m.start())]
        if not CONDITIONAL.search(text[starts[-1] if starts else 0:m.end()]):
            return True
    return False


def commits(turn: _Turn) -> bool:
    """Does this customer turn pay or decide outright?"""
    if not any(h.entry.id in SETTLING and not h.negated for h in turn.hits):
        return False
    if any(h.entry.id in RESOLVABLE for h in turn.hits):
        return False                    # a turn that raises the objection again settles nothing
    text = turn.text
    return bool(_COMMITTED.search(text)) and not CONDITIONAL.search(text) and not _TERMS.search(text)


def settled(oid: str, index: int, turns: Sequence[_Turn]) -> bool:
    """Is objection oid, last raised in customer turn `index`, settled by a later customer turn?"""
    later = [t for t in turns if t.index > index]
    if oid in RESOLVABLE and any(commits(t) for t in later):
        return True
    return oid == "trust_quality" and any(reassures(t.text) for t in later)
