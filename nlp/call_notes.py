"""Call notes: the rep's own third-person notes of a call or visit ("客户说太贵，我说可以申请折扣").
Each clause is attributed by its subject: 我/我们 → rep, 客户/他/王总 → customer; a clause without
a subject continues the previous one (nlp/parse.py falls back to this when no chat format matches)."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Sequence

from nlp.times import STAMP, parse_stamp
from nlp.turns import ROLE_CUSTOMER, ROLE_REP, Transcript, Turn, norm_name

_CLAUSE_SPLIT = re.compile(r"[。！？!?；;\n]+|[，,](?=\s*\S)")
_LEADING_FILLER = re.compile(
    r"^(?:然后|之后|后来|最后|另外|同时|但是|但|不过|而且|并且|所以|因此|目前|现在|今天|昨天|上午|下午|晚上|当时|"
    r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?|\d{1,2}月\d{1,2}日|\d{1,2}:\d{2}(?::\d{2})?|"
    r"[0-9０-９]+[.、)）]|[-*•·]|\s+)+")
_REP_OPENERS = ("我们", "我方", "我司", "我", "本人", "销售", "已发", "已经发", "已给", "发了", "给他", "给她",
                "给客户", "向客户", "跟客户", "和客户", "与客户", "同客户", "问他", "问她", "问客户", "问对方",
                "告诉他", "告诉客户", "跟他", "和他", "约了", "介绍了", "演示了", "报了", "承诺", "提出", "建议",
                "下一步", "下次", "计划", "待办", "跟进", "回访", "电话", "拜访", "沟通", "联系了", "打电话", "上门",
                "线上演示", "演示", "带客户", "陪", "第一次", "第二次", "第三次", "再次",
                "推荐", "发送", "提供了", "告知", "答应", "todo", "next")
_CUSTOMER_OPENERS = ("客户", "对方", "他们", "他", "她", "甲方", "家长", "学员", "采购", "老板", "负责人", "厂长",
                     "总监", "说", "问", "表示", "反馈", "提到", "觉得", "认为", "担心", "希望", "要求", "想", "称",
                     "回复", "答复", "customer", "client", "he ", "she ", "they ")
# "<someone> 说/表示/觉得 …" (a short subject, then a verb of saying or thinking). The notes
# are the rep's, so a subject that is not the rep is the customer's side.
_REPORTED_SPEECH = re.compile(
    r"^([^，,。\s]{1,8}?)(?:说|表示|反馈|觉得|认为|称|提到|提出|回复|答复|担心|希望|要求)(?!明|服|法)")
_SELF = ("我", "本人", "销售", "咱")
_REP_PREPOSITIONS = ("跟", "和", "去", "给")
# The rep's own action ("和刘主任电话"): the clause is the rep's, but the next clause without a
# subject is about the customer again ("园区想做访客系统").
_REP_ACTION = "rep_action"
_TITLE_OPENER = re.compile(r"^[\u4e00-\u9fff]{1,2}(?:总|经理|老师|主任|工|姐|哥|总监|厂长|校长|老板|先生|女士)")


def _clause_role(clause: str, previous: str, rep_names: Sequence[str]) -> str:
    body = _LEADING_FILLER.sub("", clause.strip()).lower()
    if not body:
        return previous
    if any(n and body.startswith(norm_name(n)) for n in rep_names):
        return ROLE_REP
    rep_len = max((len(p) for p in _REP_OPENERS if body.startswith(p)), default=0)
    cust_len = max((len(p) for p in _CUSTOMER_OPENERS if body.startswith(p)), default=0)
    if _TITLE_OPENER.match(body):
        cust_len = max(cust_len, 2)
    said = _REPORTED_SPEECH.match(body)
    if said and not said.group(1).startswith(_SELF):
        return ROLE_CUSTOMER            # "设备科说…", "校长觉得…": someone else's words
    if not rep_len and not cust_len and body.startswith(_REP_PREPOSITIONS):
        return _REP_ACTION              # "跟/去/给 X…" without a subject: what the rep did
    if rep_len or cust_len:
        return ROLE_REP if rep_len >= cust_len else ROLE_CUSTOMER
    return previous


def parse_call_notes(lines: list[str], rep_names: Sequence[str], ref: datetime) -> Transcript:
    text = "\n".join(lines)
    first_stamp = re.search(STAMP, text)
    when = parse_stamp(first_stamp.group(0), ref) if first_stamp else None
    turns: list[Turn] = []
    role = ROLE_CUSTOMER                       # notes are about the customer unless said otherwise
    for clause in _CLAUSE_SPLIT.split(text):
        clause = clause.strip()
        if not clause:
            continue
        role = _clause_role(clause, role, rep_names)
        this = ROLE_REP if role == _REP_ACTION else role
        if role == _REP_ACTION:
            role = ROLE_CUSTOMER
        if turns and turns[-1].role == this:
            turns[-1].text += "，" + clause
        else:
            turns.append(Turn(None, clause, when, this))
    return Transcript(turns, "call_notes", [], None, None, False)
