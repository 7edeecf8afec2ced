"""Engagement's part of the intent score (nlp/analyze.py step 3): questions the customer asked,
their share of the turns, the rep chasing without an answer at the end, how fast the customer
replies, one-word answers. Small effects, each with the turn it quotes."""
from __future__ import annotations

import re
from statistics import median

from nlp.reading import QUESTION as _QUESTION, short as _short
from nlp.turns import ROLE_CUSTOMER, ROLE_REP, Transcript, Turn
from nlp.views import Contribution, TurnView, last_quote


def engagement_contributions(transcript: Transcript, views: list[TurnView],
                              settings: dict) -> list[Contribution]:
    items: list[Contribution] = []
    is_chat = transcript.format != "call_notes"
    # An after-sales question ("为什么还没发货？") is no interest in buying.
    questions = [v for v in views if not v.service and _QUESTION.search(v.text)]
    if questions:
        bonus = min(float(settings["question_bonus"]) * len(questions),
                    float(settings["question_bonus_cap"]))
        items.append(Contribution("questions", f"客户主动提问 {len(questions)} 次", "互动",
                                   bonus, _short(questions[-1].text)))
    if is_chat:
        items += _share_items(transcript, views, settings)
        items += _unanswered_items(transcript, settings)
        items += _reply_speed_items(transcript, settings)
    items += _short_reply_items(views, settings, is_chat)
    return items


def _share_items(transcript: Transcript, views: list[TurnView], settings: dict):
    total = len(transcript.turns)
    if total < 4:
        return []
    share = len(views) / total
    if share < float(settings["low_share"]):
        return [Contribution("share", f"客户只回了 {len(views)}/{total} 条", "互动少",
                              float(settings["low_share_penalty"]), last_quote(views))]
    if share >= float(settings["good_share"]):
        return [Contribution("share", f"客户发言 {len(views)}/{total} 条", "互动多",
                              float(settings["good_share_bonus"]), last_quote(views))]
    return []


def _unanswered_items(transcript: Transcript, settings: dict):
    """The rep chasing at the end ("王总在吗？" twice) means the customer went quiet."""
    tail: list[Turn] = []
    for turn in reversed(transcript.turns):
        if turn.role != ROLE_REP:
            break
        tail.append(turn)
    if len(tail) < int(settings["unanswered_tail_min"]):
        return []
    times = [t.time for t in tail if t.time]
    spread_hours = (max(times) - min(times)).total_seconds() / 3600 if len(times) >= 2 else 0
    # Two quick messages in a row are one reply split in two; chasing spans hours or 3+ messages.
    if len(tail) < 3 and spread_hours < 6:
        return []
    extra = len(tail) - int(settings["unanswered_tail_min"])
    penalty = max(float(settings["unanswered_penalty"]) + extra * float(settings["unanswered_penalty_step"]),
                  float(settings["unanswered_penalty_cap"]))
    return [Contribution("unanswered", f"销售连发 {len(tail)} 条客户未回", "客户沉默", penalty, "")]


def _reply_speed_items(transcript: Transcript, settings: dict):
    delays = []
    previous: Turn | None = None
    for turn in transcript.turns:
        if (turn.role == ROLE_CUSTOMER and previous is not None and previous.role == ROLE_REP
                and turn.time and previous.time):
            minutes = (turn.time - previous.time).total_seconds() / 60
            if 0 <= minutes <= 30 * 24 * 60:
                delays.append(minutes)
        previous = turn
    if not delays:
        return []
    typical = median(delays)
    if typical < float(settings["fast_reply_minutes"]):
        return [Contribution("speed", f"客户通常 {typical:.0f} 分钟内回复", "回复快",
                              float(settings["fast_reply_bonus"]), "")]
    if typical > float(settings["slow_reply_hours"]) * 60:
        return [Contribution("speed", f"客户通常隔 {typical / 60:.0f} 小时才回", "回复慢",
                              float(settings["slow_reply_penalty"]), "")]
    return []


def _short_reply_items(views: list[TurnView], settings: dict, is_chat: bool):
    items = []
    minimal = {w.lower() for w in settings.get("minimal_replies", [])}
    bare = [v for v in views if _bare(v.text) in minimal]
    if bare:
        effect = max(float(settings["minimal_reply_weight"]) * len(bare),
                     float(settings["minimal_reply_cap"]))
        items.append(Contribution("minimal", f"敷衍回复 {len(bare)} 次", "回复敷衍", effect,
                                   _short(bare[-1].text)))
    if is_chat and len(views) >= 2:
        average = sum(len(_bare(v.text)) for v in views) / len(views)
        if average < float(settings["short_reply_chars"]):
            items.append(Contribution("short", "客户回复都很短", "回复简短",
                                       float(settings["short_reply_penalty"]), last_quote(views)))
    return items


_NOT_WORD = re.compile(r"[\W_]+")


def _bare(text: str) -> str:
    return _NOT_WORD.sub("", text.lower())
