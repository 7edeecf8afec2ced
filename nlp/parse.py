"""Split a pasted chat into turns (speaker, time, text) and decide who the customer is.

Recognised formats (first match wins):

* telegram_forward — Telegram Desktop copies: "Name, [05.03.2024 10:21]" then the text;
  "[Forwarded from Name]" / "转发自 Name" lines name the forward origin.
* wechat — WeChat / WeCom copied records: a line "Name 2024/3/5 10:21" (or "10:21 Name"),
  then the message on the following lines.
* colon — "Name: text" / "Name：text" lines, optionally with "[10:21]" in front.
* call_notes — anything else: the rep's own notes ("客户说太贵，我说可以申请折扣"). Each
  clause is attributed by its subject: 我/我们 → rep, 客户/他/王总 → customer; a clause
  without a subject continues the previous one.

Who is who: a speaker matching `rep_names` (or 我/销售) is the rep; the `forward_origin` (or
客户/对方) is the customer. Without either, a guess based on seller wording ("您", "贵公司",
"优惠") fills the roles and `needs_customer_choice` tells the bot to ask.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Sequence

from nlp.normalize import normalize_text
from nlp.times import STAMP, parse_stamp
from nlp.call_notes import parse_call_notes
from nlp.turns import ROLE_CUSTOMER, ROLE_REP, ROLE_UNKNOWN, Transcript, Turn, norm_name

FORMATS = ("wechat", "colon", "telegram_forward", "call_notes")

# Very long pastes keep their end: the latest turns matter most for intent.
MAX_PASTE_CHARS = 200_000


# ------------------------------------------------------------------------------- entry
def parse_transcript(text: str, rep_names: Sequence[str] = (), forward_origin: str | None = None,
                     *, now: datetime | None = None) -> Transcript:
    # Every parser skips blank lines, and all but Telegram's (whose headers come first) skip
    # system lines before anything else: both are told apart once here, not in every parser.
    lines = [line for line in _normalize(text or "") if line.strip()]
    system = [_is_system_line(line) for line in lines]
    body = [line for line, is_system in zip(lines, system) if not is_system] if any(system) else lines
    # the names are matched against the normalized text: "信義房屋-阿宏" is "信义房屋-阿宏" there
    rep_names = [normalize_text(n) for n in rep_names if n]
    forward_origin = normalize_text(forward_origin) if forward_origin else forward_origin
    ref = now or datetime.now()
    parsed = _parse_telegram(lines, system, ref)
    for parser in (_parse_wechat, _parse_colon, _parse_named_lines):
        if parsed is not None:
            break
        parsed = parser(body, ref)
    if parsed is not None:
        fmt, turns, origin_in_text = parsed
        return _assign_roles(fmt, turns, rep_names, forward_origin or origin_in_text)
    return parse_call_notes(body, rep_names, ref)


# --------------------------------------------------------------------------- normalize
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]+")
_ODD_SPACES = re.compile("[\u00a0\u3000\t]")
# A system line holds one of these phrases, or is a separator of dashes. Two patterns: with the
# anchored separators in one alternation the phrases lost the regex engine's skip to their first
# characters, and every position of every line was tried against all nine alternatives.
_SYSTEM_PHRASE = re.compile(
    r"撤回了一条消息|拍了拍|加入了群聊|移出了群聊|以下为新消息|以上是打招呼的内容|现在可以开始聊天了")
_SEPARATOR_LINE = re.compile(r"[—\-=─]{2,}.*[—\-=─]{2,}$|\s*[—\-=─]{3,}\s*$")


def _normalize(text: str) -> list[str]:
    # re.sub is much faster than str.translate with a dict on long pastes.
    text = _ODD_SPACES.sub(" ", _INVISIBLE.sub("", text))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > MAX_PASTE_CHARS:
        text = text[-MAX_PASTE_CHARS:]
        text = text[text.find("\n") + 1:] if "\n" in text else text
    text = normalize_text(text)     # Traditional → Simplified, full width, repeated punctuation
    return [line.rstrip() for line in text.split("\n")]


def _is_system_line(line: str) -> bool:
    return bool(_SYSTEM_PHRASE.search(line) or _SEPARATOR_LINE.match(line))


# ---------------------------------------------------------------------- speaker names
# Words that look like a "name" before a colon or a time but are labels or time words.
_NOT_NAMES = frozenset("""
备注 时间 地点 结论 下一步 跟进 需求 电话 地址 日期 主题 公司 联系人 客户名称 预算 金额 产品 状态 阶段
结果 问题 原因 计划 总结 说明 注意 重点 附件 微信 邮箱 网址 链接 价格 报价 数量 型号 注 ps 行业 规模
明天 后天 大后天 今晚 明早 明晚 今早 上午 下午 中午 晚上 早上 凌晨 约 改到 改成 定在 就 大概 下周 本周 这周
周一 周二 周三 周四 周五 周六 周日 星期一 星期二 星期三 星期四 星期五 星期六 星期日 http https 时间点
好的 好 可以 行 嗯 那就 收到 没问题 到时候 ok 改 定 是 对
""".split())
REP_ALIASES = frozenset(["我", "我方", "我司", "销售", "本人", "顾问", "客服", "me", "rep", "sales"])
CUSTOMER_ALIASES = frozenset(["客户", "对方", "客户方", "甲方", "顾客", "家长", "学员", "customer", "client"])


def _clean_name(name: str) -> str:
    return name.strip().rstrip(":：").strip()


_NAME_BREAKERS = re.compile(r"[，。！？!?,;；\"“”<>《》\[\]【】/\\]")


@lru_cache(maxsize=4096)      # a paste repeats its few speakers' names in every header
def _is_plausible_name(name: str) -> bool:
    if not name or len(name) > 24 or name.lower() in _NOT_NAMES:
        return False
    if _NAME_BREAKERS.search(name):
        return False
    if name.replace(" ", "").isdigit() or name.startswith(("http", "www.")):
        return False
    cjk = sum(1 for ch in name if "\u4e00" <= ch <= "\u9fff")
    return cjk <= 12 and len(name.split()) <= 4


def _same_person(speaker: str, name: str) -> bool:
    """Exact match, or one contains the other ("小王" in "小王-销售顾问") for names of 2+ chars."""
    a, b = norm_name(speaker), norm_name(name)
    if not a or not b:
        return False
    if a == b:
        return True
    return min(len(a), len(b)) >= 2 and (a in b or b in a)


# ----------------------------------------------------------------- turn accumulation
@dataclass
class _RawTurn:
    speaker: str | None
    time: datetime | None
    lines: list[str] = field(default_factory=list)


def _finish(raw: list[_RawTurn]) -> list[Turn]:
    turns = []
    for item in raw:
        text = "\n".join(line.strip() for line in item.lines if line.strip())
        if text:
            turns.append(Turn(item.speaker, text, item.time))
    return turns


# ------------------------------------------------------------------------ telegram
_TG_HEADER = re.compile(r"^(?P<name>[^\[\]\n]{1,60}?),\s*\[(?P<ts>[^\]]{3,40})\]\s*$")
_TG_FORWARD = re.compile(
    r"^\[?\s*(?:Forwarded from|Forwarded From|FORWARDED FROM|转发自|转自)[:：]?\s*(?P<name>[^\[\]]+?)\s*\]?"
    r"\s*(?:,?\s*\[(?P<ts>[^\]]{3,40})\])?\s*$")


# The one-line form a forwarded message takes when copied: "[Forwarded from 王总] 报价发我".
_TG_FORWARD_INLINE = re.compile(
    r"^\[\s*(?:Forwarded from|Forwarded From|FORWARDED FROM|转发自|转自)[:：]?\s*(?P<name>[^\[\]]+?)\s*\]"
    r"\s*(?:\[(?P<ts>[^\]]{3,40})\]\s*)?(?P<text>\S.*)$")


_BRACKETED = re.compile(r"\[[^\[\]]{3,40}\]")


def _parse_telegram(lines: list[str], system: list[bool], ref: datetime):
    """`lines`: the paste's non-blank lines; `system`: which of them are system lines."""
    raw: list[_RawTurn] = []
    origin = None
    headers = 0
    last_time = None
    inline_names: set[str] = set()
    for line, is_system in zip(lines, system):
        if (line.lstrip().startswith("[") and (m := _TG_FORWARD_INLINE.match(line.strip()))
                and not _BRACKETED.fullmatch(m.group("text"))):
            name = _clean_name(m.group("name"))
            stamp = parse_stamp(m.group("ts"), last_time or ref) if m.group("ts") else None
            raw.append(_RawTurn(name, stamp, [m.group("text")]))
            inline_names.add(name)
            last_time = stamp or last_time
            headers += 1
            continue
        if ("rward" in line or "转" in line) and (m := _TG_FORWARD.match(line.strip())):
            origin = origin or _clean_name(m.group("name"))
            stamp = parse_stamp(m.group("ts"), last_time or ref) if m.group("ts") else None
            raw.append(_RawTurn(_clean_name(m.group("name")), stamp))
            headers += 1
            continue
        m = _TG_HEADER.match(line.strip()) if "[" in line else None
        stamp = parse_stamp(m.group("ts"), last_time or ref) if m else None
        if m and stamp and _is_plausible_name(_clean_name(m.group("name"))):
            # "Forwarded from X" directly followed by X's header is one message.
            if raw and not raw[-1].lines and raw[-1].speaker == _clean_name(m.group("name")):
                raw[-1].time = stamp
            else:
                raw.append(_RawTurn(_clean_name(m.group("name")), stamp))
            last_time = stamp
            headers += 1
            continue
        if is_system:
            continue
        if not raw:
            raw.append(_RawTurn(None, None))
        raw[-1].lines.append(line)
    if headers == 0:
        return None
    if len(inline_names) > 1 and origin is None:
        # several people forwarded on one line each: who the customer is is not in the text
        return "telegram_forward", _finish(raw), None
    if inline_names and origin is None:
        origin = next(iter(inline_names))
    return "telegram_forward", _finish(raw), origin


# -------------------------------------------------------------------------- wechat
# Names are 1-4 space-separated words; spelling that out avoids the backtracking of `.*?`.
_WX_NAME_FIRST = re.compile(rf"^(?P<name>\S+(?: \S+){{0,3}}?)\s+(?P<ts>{STAMP})\s*$")
_WX_TIME_FIRST = re.compile(rf"^(?P<ts>{STAMP})\s+(?P<name>\S+(?: \S+){{0,3}})\s*$")
_STAMP_ONLY = re.compile(rf"^\s*(?P<ts>{STAMP})\s*$")


def _wechat_header(line: str, ref: datetime) -> tuple[str, datetime] | None:
    if len(line) > 80 or ":" not in line:          # cheap reject: most lines are messages
        return None
    for pattern in (_WX_NAME_FIRST, _WX_TIME_FIRST):
        m = pattern.match(line.strip())
        if not m:
            continue
        name = _clean_name(m.group("name"))
        stamp = parse_stamp(m.group("ts"), ref)
        if stamp and _is_plausible_name(name):
            return name, stamp
    return None


def _parse_wechat(lines: list[str], ref: datetime):
    """`lines`: the paste's non-blank lines that are not system lines (so for every parser below)."""
    raw: list[_RawTurn] = []
    headers = content = 0
    last_time = None
    for line in lines:
        header = _wechat_header(line, last_time or ref)
        if header:
            raw.append(_RawTurn(header[0], header[1]))
            last_time = header[1]
            headers += 1
            continue
        if m := _STAMP_ONLY.match(line):      # a day separator such as "昨天 10:21"
            last_time = parse_stamp(m.group("ts"), last_time or ref) or last_time
            continue
        if not raw:
            raw.append(_RawTurn(None, None))
        raw[-1].lines.append(line)
        content += 1
    if headers == 0 or content < headers * 0.5:
        return None
    if headers == 1 and raw[0].speaker is None:     # one "name time" line inside prose
        return None
    return "wechat", _finish(raw), None


# --------------------------------------------------------------------------- colon
# A bullet ("- 客户：华盛电子") starts a note line, never a speaker name.
_COLON_LINE = re.compile(
    rf"^(?:[\[【(（]?(?P<ts>{STAMP})[\]】)）]?\s*)?(?P<name>[^\s:：\[\]【】\-*•·][^:：]{{0,23}}?)\s*[:：]\s*(?P<text>.*)$")


def _colon_line(line: str, ref: datetime) -> tuple[str, str, datetime | None] | None:
    m = _COLON_LINE.match(line.strip())
    if not m:
        return None
    name, text = _clean_name(m.group("name")), m.group("text")
    if name[-1:].isdigit() and text[:2].isdigit():          # "下午3:00可以" is a time
        return None
    if not _is_plausible_name(name):
        return None
    stamp = parse_stamp(m.group("ts"), ref) if m.group("ts") else None
    return name, text, stamp


def _parse_colon(lines: list[str], ref: datetime):
    raw: list[_RawTurn] = []
    names: Counter = Counter()
    nonempty = 0
    last_time = None
    for line in lines:
        nonempty += 1
        parsed = _colon_line(line, last_time or ref)
        if parsed:
            name, text, stamp = parsed
            last_time = stamp or last_time
            raw.append(_RawTurn(name, stamp, [text]))
            names[name] += 1
            continue
        if not raw:
            raw.append(_RawTurn(None, None))
        raw[-1].lines.append(line)
    speaker_lines = sum(names.values())
    if speaker_lines == 1 and nonempty == 1 and _looks_like_person(next(iter(names))):
        return "colon", _finish(raw), None        # one forwarded line: "王总：报价单发我"
    if speaker_lines < 2 or speaker_lines < 0.5 * nonempty:
        return None
    return "colon", _finish(raw), None


# ------------------------------------------------------------------- named lines
# A voice transcript or a quick retyping: "林太 睇咗少少 …" — the speaker's name, a space, the
# words, one message a line, no colon. Read as speaker lines when a few names open (almost) every
# line and the same names come back; prose notes open their lines with ever other words.
_NAMED_LINE = re.compile(r"^(?P<name>[^\s:：，,。！？!?]{1,16}) +(?P<text>\S.*)$")
MAX_NAMED_SPEAKERS = 4


def _parse_named_lines(lines: list[str], ref: datetime):
    body = [line.strip() for line in lines]
    if len(body) < 3:
        return None
    matches = [_NAMED_LINE.match(line) for line in body]
    firsts = [m.group("name") if m else None for m in matches]
    names = Counter(f for f in firsts if f and _is_plausible_name(f) and not f[:1].isdigit())
    top = [n for n, _ in names.most_common(MAX_NAMED_SPEAKERS)]
    if len(top) < 2 or sum(names[n] >= 2 for n in top) < 1:
        return None
    named = sum(f in top for f in firsts)
    if named < 0.8 * len(body) or named < 3 or len(names) > MAX_NAMED_SPEAKERS:
        return None
    raw: list[_RawTurn] = []
    for line, first, m in zip(body, firsts, matches):
        if first in top:
            raw.append(_RawTurn(first, None, [m.group("text")]))
        elif raw:
            raw[-1].lines.append(line)
        else:
            raw.append(_RawTurn(None, None, [line]))
    return "colon", _finish(raw), None


_PERSON = re.compile(r"^(?:[\u4e00-\u9fff]{1,3}(?:总|经理|老师|主任|工|姐|哥|总监|厂长|校长|老板|先生|女士)"
                     r"|[A-Z][a-z]+(?: [A-Z][a-z.]+)?)$")


def _looks_like_person(name: str) -> bool:
    """For a single "name: text" line the name must look like one (王总, 李经理, Tony Chen)."""
    return bool(_PERSON.match(name)) or norm_name(name) in REP_ALIASES | CUSTOMER_ALIASES


# ---------------------------------------------------------------------------- roles
_REP_MARKERS = ("您", "贵公司", "贵司", "贵校", "贵单位", "我司", "我们的产品", "我们产品", "给您", "为您", "帮您",
                "优惠", "免费", "活动价", "欢迎", "亲", "我是", "我们这边可以", "报价发您", "方案发您")
_CUSTOMER_MARKERS = ("你们", "多少钱", "贵不贵", "我们老板", "我们领导", "考虑一下", "再看看", "我们公司现在",
                     "能不能便宜", "太贵")


def _seller_score(texts: list[str]) -> int:
    joined = "\n".join(texts)
    rep = sum(joined.count(m) for m in _REP_MARKERS)
    customer = sum(joined.count(m) for m in _CUSTOMER_MARKERS)
    return rep - customer


def _assign_roles(fmt: str, turns: list[Turn], rep_names: Sequence[str],
                  forward_origin: str | None) -> Transcript:
    speakers = list(dict.fromkeys(t.speaker for t in turns if t.speaker))
    reps = [s for s in speakers
            if any(_same_person(s, n) for n in rep_names if n) or norm_name(s) in REP_ALIASES]
    customers = [s for s in speakers if s not in reps and (
        (forward_origin and _same_person(s, forward_origin)) or norm_name(s) in CUSTOMER_ALIASES)]
    needs_choice = False
    if reps:
        customers = [s for s in speakers if s not in reps]
    elif customers:
        reps = [s for s in speakers if s not in customers]
    elif len(speakers) == 1 and _seller_score([t.text for t in turns]) < 2:
        customers = speakers                # a paste of the customer's own messages
    elif len(speakers) == 1:
        reps, needs_choice = speakers, True  # only the rep's messages ("王总在吗？")
    elif speakers:
        reps, customers = _guess_rep(turns, speakers)
        needs_choice = True
    role = {s: ROLE_REP for s in reps} | {s: ROLE_CUSTOMER for s in customers}
    for turn in turns:
        turn.role = role.get(turn.speaker, ROLE_UNKNOWN)
    per_speaker = Counter(t.speaker for t in turns if t.role == ROLE_CUSTOMER)
    customer = per_speaker.most_common(1)[0][0] if per_speaker else None
    known = forward_origin if customer and forward_origin and _same_person(customer, forward_origin) else None
    return Transcript(turns, fmt, speakers, customer, reps[0] if reps else None, needs_choice, known)


def _has_title(name: str) -> bool:
    """Reps save customers as 王总 / 李经理 / 张老师: a title suggests the customer."""
    return bool(_TITLE_NAME.search(name))


_TITLE_NAME = re.compile(r"(?:总|经理|老师|主任|工|姐|总监|厂长|校长|老板|先生|女士|妈妈|爸爸|家长)(?:$|[-（(@])")


def _guess_rep(turns: list[Turn], speakers: list[str]) -> tuple[list[str], list[str]]:
    """The speaker who sounds most like a seller is the rep; everyone else is the customer.
    Ties go to whoever spoke first (reps usually open: "您好，我是…")."""
    scores = {s: _seller_score([t.text for t in turns if t.speaker == s]) - 2 * _has_title(s)
              for s in speakers}
    rep = max(speakers, key=lambda s: (scores[s], -speakers.index(s)))
    return [rep], [s for s in speakers if s != rep]
