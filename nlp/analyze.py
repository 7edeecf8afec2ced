"""Read a pasted conversation: intent score 0-100 with its reasons, objections with scripted
answers, keywords, and when the customer replied.

How the score is built (all weights live in nlp/data/lexicon.toml):

1. Each customer turn is segmented once; the lexicon matcher finds signals (asks for a quote,
   contract, trial, delivery date…), negatives (hedges, refusals) and objections. The rep's
   turns are never scored: "我们有优惠" from the rep says nothing about the customer.
2. A hit adds its weight × recency (later turns weigh more) × a decay for repeats.
3. Engagement (nlp/engagement.py) adds or removes a little: questions asked, share of turns,
   reply speed, one-word answers, the rep chasing without answer at the end.
4. Priority rules: a refusal after which the customer shows no buying signal caps the score
   (a polite "有需要再联系" is never read as interest); ending on a hedge caps it below "high".
5. Engaged floor: a customer who asks, wants material or argues about price/quality/vendors
   but hedges is "medium" (the labelling guide), so the score is raised to `engaged_floor`
   unless they refused, said there is no need, went quiet, or raised "no money" / "we keep our
   vendor" with no interest shown after it.

Keywords come from the customer's turns only: the rep's "优惠/免费/活动价" are not the topic.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping, Sequence

from nlp import clauses, engine
from nlp.kinds import KIND_NOTES, kind_of as _kind
from nlp.service import on_existing
from nlp.keywords import top_keywords
from nlp.lexicon import Hit, Lexicon
from nlp.pinyin import to_hanzi
from nlp.settled import settled
from nlp.reading import MAX_QUOTE_CHARS, QUESTION as _QUESTION, Objection, Reason, short as _short  # noqa: F401
from nlp.parse import ROLE_CUSTOMER, ROLE_REP, Transcript, parse_transcript
from nlp.engagement import engagement_contributions
from nlp.views import Contribution, TurnView, last_quote, phrase_and_quote

LEVEL_ZH = {"high": "高", "medium": "中", "low": "低"}
MAX_REASONS = 5
KEYWORD_COUNT = 8


@dataclass
class Analysis:
    score: int
    level: str                       # "high" | "medium" | "low"
    level_zh: str                    # "高" | "中" | "低"
    reasons: list[Reason]
    objections: list[Objection]
    keywords: list[str]
    customer: str | None
    turns: int
    customer_turns: int
    is_conversation: bool
    reply_hours: list[int]
    format: str = ""
    needs_customer_choice: bool = False
    speakers: list[str] = field(default_factory=list)
    next_step: str = ""
    kind: str = "sales"              # sales | complaint | service | job | spam | chitchat | junk | one_sided
    note: str = ""                   # what the text is, when it is not (only) a sales conversation
    lexicon_score: int = 0           # the rule score before the trained model's blend
    probability: float = 0.0         # P(high) behind the score, unrounded (ranking, AUC)


# --------------------------------------------------------------------------- cleaning
# Placeholders ([图片] [语音] [Sticker]) and WeChat emoji codes ([微笑] [捂脸]) carry no words.
_PLACEHOLDER = re.compile(r"\[[^\[\]\n]{1,10}\](?:\s*\d+[\"″'’”]+)?")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MEANINGFUL = re.compile(r"[\u4e00-\u9fffA-Za-z]")



def clean_text(text: str) -> str:
    """Drop links and placeholders; keep emoji (👍 is a signal) and mixed English; pinyin runs
    the table knows ("tai gui le") are read in Hanzi (nlp/pinyin.py)."""
    return to_hanzi(_PLACEHOLDER.sub(" ", _URL.sub(" ", text)))


def analyze(text_or_transcript: str | Transcript, *, rep_names: Sequence[str] = (),
            scripts: Mapping[str, str] | None = None, now: datetime | None = None,
            forward_origin: str | None = None, _features_out: list | None = None) -> Analysis:
    """Read one pasted conversation (or an already parsed Transcript).

    rep_names: the rep's own names/aliases as they appear in the paste; forward_origin: the
    original sender of a Telegram forward (the customer); scripts: the team's objection
    scripts (id → text) from config.toml, falling back to nlp/data/scripts.toml; now: the
    reference time for "昨天 10:21"-style stamps. Check `is_conversation` before showing a
    score: garbage, links or stickers alone give is_conversation=False.
    """
    res = engine.resources()
    transcript = (text_or_transcript if isinstance(text_or_transcript, Transcript)
                  else parse_transcript(text_or_transcript, rep_names, forward_origin, now=now))
    views = _segment(transcript, res.lexicon)
    if not _is_conversation(views):
        return _not_a_conversation(transcript)
    customer_views = [v for v in views if v.turn.role == ROLE_CUSTOMER]
    kind = _kind(transcript, views, customer_views)
    score, contributions = _score(transcript, views, customer_views, res.lexicon.settings)
    lexicon_score = score
    objections, settled_ids = _objections(customer_views, res.scripts, scripts)
    from nlp import model as trained          # numpy is imported on the first analysis only

    # service asked on what the customer already has, no new purchase: never "high" (nlp/service.py)
    service_on_existing = on_existing(views, customer_views, transcript.format == "call_notes")
    blended = trained.blend(transcript, views, customer_views, contributions, lexicon_score, kind,
                            service_on_existing)
    if _features_out is not None:
        # the model's input (training, and the features a card's label stores): the blend's own,
        # featurized once; with the model off (training) built here
        _features_out.append(blended.features if blended is not None else
                             trained.featurize(transcript, views, customer_views, contributions, lexicon_score, kind))
    probability = score / 100.0
    settings = res.lexicon.settings
    if blended is not None:
        score, kind, probability = blended.score, blended.kind, blended.p_high
        # the blended score is a calibrated P(high): "high" from 50 on (more likely than not)
        settings = {**settings, "high_min": int(settings.get("model_high_min", 50))}
        objections = trained.merge_objections(objections, blended, customer_views, res.scripts, scripts,
                                                  settled_ids)
    elif kind == "sales" and service_on_existing:
        # the lexicon alone likewise (the blend caps it in nlp/model.py)
        score, probability = _below_high(score, probability, settings)
    if kind != "sales":
        # Not a sales conversation: say what it is, never a buying score.
        score = min(score, int(res.lexicon.settings.get("non_sales_cap", 10)))
        probability = min(probability, score / 100.0)
    elif len(transcript.speakers) == 1 and transcript.format != "call_notes" and not transcript.origin:
        kind = "one_sided"                     # only one side's messages: never "high"
        score, probability = _below_high(score, probability, settings)
    level = _level(score, settings)
    counts: Counter = Counter()
    for view in _keyword_views(views, customer_views):
        counts.update(view.tokens)
    return Analysis(
        score=score,
        level=level,
        level_zh=LEVEL_ZH[level],
        reasons=_top_reasons(contributions),
        objections=objections if kind in ("sales", "one_sided") else [],
        keywords=top_keywords(counts, res.idf, KEYWORD_COUNT, exclude=transcript.speakers),
        customer=transcript.customer,
        turns=len(transcript.turns),
        customer_turns=len(customer_views),
        is_conversation=True,
        reply_hours=[t.time.hour for t in transcript.turns
                     if t.role == ROLE_CUSTOMER and t.time is not None],
        format=transcript.format,
        needs_customer_choice=transcript.needs_customer_choice,
        speakers=list(transcript.speakers),
        next_step=res.next_steps.get(level, "") if kind == "sales" else "",
        kind=kind,
        note=KIND_NOTES.get(kind, ""),
        lexicon_score=lexicon_score,
        probability=round(probability, 6),
    )


def _below_high(score: int, probability: float, settings: dict) -> tuple[int, float]:
    """The score and P(high) held just under the "high" band."""
    score = min(score, int(settings.get("high_min", 65)) - 1)
    return score, min(probability, score / 100.0)


def _keyword_views(views: list[TurnView], customer_views: list[TurnView]) -> list[TurnView]:
    """Keywords say what the CUSTOMER talks about: the rep's own "优惠/免费/活动价" never count.
    Turns of unknown role are used only when no turn is known to be the customer's."""
    if customer_views:
        return customer_views
    return [v for v in views if v.turn.role != ROLE_REP]


def _score(transcript: Transcript, views: list[TurnView], customer_views: list[TurnView],
           settings: dict) -> tuple[int, list[Contribution]]:
    """Base + signals (capped) + engagement, then the priority rules; clamped to 0-100."""
    scored_views = [v for v in views if v.turn.role == ROLE_CUSTOMER or v.hits]
    contributions = _signal_contributions(scored_views, len(transcript.turns), settings)
    _cap_positive(contributions, float(settings.get("positive_cap", 70)))
    contributions += engagement_contributions(transcript, customer_views, settings)
    score = float(settings.get("base_score", 30)) + sum(c.effect for c in contributions)
    score = _apply_priority_rules(score, customer_views, contributions, settings)
    score = _engaged_floor(score, customer_views, contributions, settings)
    return int(round(min(100.0, max(0.0, score)))), contributions


def _segment(transcript: Transcript, lexicon: Lexicon) -> list[TurnView]:
    """One jieba pass per turn; the matcher runs on customer turns. In call notes the rep's
    own clauses are matched too, keeping only facts the rep reports (scope "any": 没人接).
    A rep's chat turn is matched against nothing: it is segmented lazily (TurnView.tokens)."""
    views = []
    notes = transcript.format == "call_notes"
    for index, turn in enumerate(transcript.turns):
        text = clean_text(turn.text)
        if turn.role == ROLE_REP and not notes:
            views.append(TurnView(index, turn, text, None, []))
            continue
        tokens = engine.cut(text)
        ruled_out: set[str] = set()
        if turn.role == ROLE_CUSTOMER:
            hits = lexicon.find(tokens)
            if lexicon.patterns:
                extra = lexicon.find_patterns(tokens)
                if extra:
                    hits = sorted(hits + extra, key=lambda h: h.start)
            hits = clauses.refine(tokens, hits, lexicon, ruled_out)
        elif notes:
            hits = [h for h in lexicon.find(tokens) if h.entry.scope == "any"]
        else:
            hits = []
        service = clauses.complaint_kind(text) if turn.role == ROLE_CUSTOMER else ""
        views.append(TurnView(index, turn, text, tokens, hits, service, ruled_out=frozenset(ruled_out)))
    return views


def _is_conversation(views: list[TurnView]) -> bool:
    # counts of single characters: over all turns at once (subn counts without a match list)
    text = "".join(v.text for v in views)
    meaningful = _MEANINGFUL.subn("", text)[1]
    if meaningful < 4:
        return False
    visible = len(text) - text.count(" ") - text.count("\n")
    odd = _ODD.subn("", text)[1]
    # Binary junk decoded as text: few letters, many control/replacement/private-use characters.
    return meaningful >= 0.3 * visible and odd <= 0.02 * visible


_ODD = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd\ue000-\uf8ff\U000f0000-\U0010ffff]")


def _not_a_conversation(transcript: Transcript) -> Analysis:
    return Analysis(score=0, level="low", level_zh=LEVEL_ZH["low"], reasons=[], objections=[],
                    keywords=[], customer=transcript.customer, turns=len(transcript.turns),
                    customer_turns=0, is_conversation=False, reply_hours=[],
                    format=transcript.format, speakers=list(transcript.speakers), kind="junk",
                    note="没有可读的对话内容（空白、表情、链接或乱码）。")


# ------------------------------------------------------------------------- signals
def _recency(index: int, total: int, settings: dict) -> float:
    low, high = float(settings.get("recency_min", 0.6)), float(settings.get("recency_max", 1.4))
    return high if total <= 1 else low + (high - low) * index / (total - 1)


def _signal_contributions(views: list[TurnView], total_turns: int,
                          settings: dict) -> list[Contribution]:
    decay = float(settings.get("repeat_decay", 0.5))
    seen: Counter = Counter()
    result = []
    for view in views:
        weight_now = _recency(view.index, total_turns, settings)
        for hit in view.hits:
            entry = hit.entry
            if entry.weight == 0:
                continue
            effect = entry.weight * weight_now * decay ** seen[entry.id]
            seen[entry.id] += 1
            result.append(Contribution(_reason_key(view, hit), "", entry.label_zh, effect, "",
                                        (view, hit)))
    return result


def _reason_key(view: TurnView, hit: Hit) -> str:
    """Reasons are per phrase: "忙不过来" and "以后再说" are two reasons of one category."""
    return hit.entry.id + ":" + "".join(view.tokens[hit.start:hit.end])


def _cap_positive(contributions: list[Contribution], cap: float) -> None:
    """Many buying signals saturate: scale them down together so that reasons stay honest."""
    positive = sum(c.effect for c in contributions if c.effect > 0)
    if positive > cap > 0:
        factor = cap / positive
        for c in contributions:
            if c.effect > 0:
                c.effect *= factor


# ------------------------------------------------------------------ priority rules
def _apply_priority_rules(score: float, views: list[TurnView],
                          contributions: list[Contribution], settings: dict) -> float:
    min_buy = float(settings.get("buy_signal_min_weight", 8))
    ordered = [(v.index, h.start, h, v) for v in views for h in v.hits]
    refusals = [item for item in ordered if item[2].entry.priority == "refusal"]
    if refusals:
        last = refusals[-1]
        later_buy = any(h.entry.kind == "buy" and h.entry.weight >= min_buy
                        for (ti, tok, h, _) in ordered if (ti, tok) > (last[0], last[1]))
        cap = float(settings.get("refusal_cap", 15))
        if not later_buy and score > cap:
            _add_cap_reason(contributions, last, cap - score, "拒绝优先")
            score = cap
    if views:
        last_view = views[-1]
        kinds = {h.entry.id for h in last_view.hits}
        hedged = kinds & {"hedge", "brush_off", "timing"}
        bought = any(h.entry.kind == "buy" and h.entry.weight >= min_buy for h in last_view.hits)
        cap = float(settings.get("hedge_cap", 60))
        if hedged and not bought and score > cap:
            hit = next(h for h in last_view.hits if h.entry.id in hedged)
            _add_cap_reason(contributions, (last_view.index, hit.start, hit, last_view), cap - score,
                            "以犹豫收尾")
            score = cap
    return score


def _engaged_floor(score: float, views: list[TurnView], contributions: list[Contribution],
                   settings: dict) -> float:
    """Engaged but hedging is "medium", never "low" (the labelling guide): a customer who asks
    questions, wants material or argues about price, timing or approval keeps at least
    `engaged_floor` — unless they refused, said there is no need, went quiet, or raised no
    money / a vendor they keep with no interest shown after it."""
    floor = float(settings.get("engaged_floor", 0))
    if not views or score >= floor:
        return score
    if any(c.key in ("unanswered", "short") for c in contributions):
        return score
    hard = set(settings.get("floor_blockers", ()))
    soft = set(settings.get("floor_soft_blockers", ()))
    engaging = set(settings.get("floor_engaging_objections", ()))
    min_weight = float(settings.get("floor_min_signal_weight", 4))
    engaged_at, soft_at = -1, -1
    for view in views:
        if view.service:
            continue                                # complaints are no engagement to buy
        if _QUESTION.search(view.text):
            engaged_at = view.index
        for hit in view.hits:
            entry = hit.entry
            if entry.priority == "refusal" or entry.id in hard:
                return score
            if entry.id in soft:
                soft_at = view.index
            elif entry.id in engaging or (entry.kind in ("buy", "engage") and entry.weight >= min_weight):
                engaged_at = view.index
    if engaged_at < 0 or engaged_at < soft_at:
        return score
    contributions.append(Contribution("floor", "客户仍在互动，只是在犹豫", "仍有兴趣（保底）",
                                       floor - score, last_quote(views)))
    return floor


def _add_cap_reason(contributions: list[Contribution], item, delta: float, label: str) -> None:
    _, _, hit, view = item
    contributions.append(Contribution(_reason_key(view, hit), "", f"{hit.entry.label_zh}（{label}）",
                                       delta, "", (view, hit)))


def _level(score: int, settings: dict) -> str:
    """high / medium / low from the thresholds in lexicon.toml [settings]."""
    if score >= int(settings.get("high_min", 65)):
        return "high"
    if score >= int(settings.get("medium_min", 35)):
        return "medium"
    return "low"


# ------------------------------------------------------------------------- reasons
def _top_reasons(contributions: list[Contribution]) -> list[Reason]:
    """Merge repeats of one phrase, then keep the 3-5 that moved the score most. One phrase
    that fired two entries ("不需要了": refusal + no need) is shown once."""
    merged: dict[str, Contribution] = {}
    for c in contributions:
        if c.key in merged:
            kept = merged[c.key]
            if "（" in c.label:                 # a priority rule's cap: say so
                kept.label = c.label
            kept.effect += c.effect
        else:
            merged[c.key] = Contribution(c.key, c.phrase, c.label, c.effect, c.quote, c.source)
    ranked = sorted(merged.values(), key=lambda c: -abs(c.effect))
    by_phrase: dict[tuple[str, str], Contribution] = {}
    for c in ranked[:MAX_REASONS * 2]:
        c.resolve()
        key = (c.phrase, c.quote)
        if key in by_phrase and c.phrase:
            by_phrase[key].effect += c.effect
            by_phrase[key].label += "、" + c.label
        else:
            by_phrase[key] = c
    kept = sorted(by_phrase.values(), key=lambda c: -abs(c.effect))
    reasons, quoted = [], set()
    for c in kept:
        if abs(c.effect) < 0.5 or (c.quote and c.quote in quoted):
            continue                                # one sentence is one reason, quoted once
        quoted.add(c.quote)
        reasons.append(Reason(c.phrase, int(round(c.effect)), c.quote, c.label))
    return reasons[:MAX_REASONS]


# ---------------------------------------------------------------------- objections
def _objections(views: list[TurnView], defaults: Mapping[str, str],
                scripts: Mapping[str, str] | None) -> tuple[list[Objection], set[str]]:
    """One per category, most recent first; the team's script wins over ours. An objection the
    customer settled in a later turn (nlp/settled.py) is left out; its id is returned beside them, so
    that the model's heads do not bring it back."""
    latest: dict[str, tuple[tuple[int, int], TurnView, Hit]] = {}
    for view in views:
        for hit in view.hits:
            if hit.entry.is_objection:
                latest[hit.entry.id] = ((view.index, hit.start), view, hit)
    result, gone = [], set()
    for oid, (_, view, hit) in sorted(latest.items(), key=lambda kv: kv[1][0], reverse=True):
        if settled(oid, view.index, views):
            gone.add(oid)
            continue
        entry = hit.entry
        script = (scripts or {}).get(oid) or defaults.get(oid, "")
        result.append(Objection(oid, entry.label_zh, entry.label_en,
                                phrase_and_quote(view, hit)[1], script))
    return result, gone
