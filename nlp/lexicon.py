"""Signal and objection lexicon (nlp/data/lexicon.toml) and the matcher that runs over tokens.

Why a matcher of our own: jieba.analyse's extract_tags weighs words with jieba's generic IDF and
ignores user-dictionary terms, so it cannot tell "报价单" from "您好". Signal detection instead
looks tokens up in dicts built from the lexicon:

* phrases  — a phrase matches when consecutive tokens concatenate to it (longest wins), so
  "不需要了" (refusal) beats "需要" (interest) and "贵公司" is never "贵" (expensive);
* near     — a word from group a and one from group b within a few tokens of one clause
  ("价格 … 有点高"), which covers wordings nobody listed;
* negation — a negator shortly before a hit ("不贵", "没那么贵") drops it or turns it into
  another entry (negated "需要" → no_need, negated "考虑" → refusal);
* standalone — terms that count only as a whole clause (a bare "不用。");
* context — negative remarks after 如果/要是 are hypothetical and dropped; "要老板同意" (a
  modal before a decision) is still an approval to get, not a decision made;
* glued tokens — jieba's dictionary has words like "很着急"; a long token that matched
  nothing is checked for a listed phrase at its start or end.
* comparisons — "比 X 贵/高" and "X 比你们便宜" are price complaints whatever X is, while
  "比 X 便宜" is not, unless negated ("比西门子也没便宜多少"): a family rule, no list of X;
* patterns — a few regular expressions over the clause text for what tokens cannot express
  (a quantity being ordered: "先来8台", "做200套");
* context filters — a timing word right after a clock time is scheduling ("两点以后吧");
  "no need" for part of a product ("一半功能用不上") is not "no need"; a negated need about
  switching next to a vendor they use ("一直用X的，没有换的打算") is that vendor, not no need;
  "我们现在用的" inside a comparison or "之前在用" names no current vendor; a brand named with
  对接/集成, or a carrier after 发/寄 ("发顺丰"), is not a competitor.

The comparisons and context filters live in nlp/lexicon_rules.py, the data types in
nlp/lexicon_entries.py. Everything here is built once at warm-up and read-only afterwards (safe
across threads).
"""
from __future__ import annotations

import re
import tomllib
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Iterable

from nlp.lexicon_entries import (MAX_PHRASE_TOKENS, OBJECTION_IDS, Entry, Hit, NearRule,  # noqa: F401
                                 normalize_term)
from nlp.lexicon_rules import FamilyRules


# Sentence-final particles a standalone answer may carry: "不用啊", "算了吧".
_PARTICLES = ("", "了", "啊", "吧", "呀", "哈", "呢", "哦", "的", "了吧", "了啊", "啦")


@dataclass
class Lexicon(FamilyRules):
    settings: dict
    entries: dict[str, Entry]
    phrases: dict[str, tuple[Entry, ...]]
    standalone: dict[str, tuple[Entry, ...]]
    prefixes: frozenset[str]
    near_rules: list[NearRule]
    near_index: dict[str, tuple[tuple[NearRule, bool], ...]]   # token → (rule, token_is_in_a)
    negators: frozenset[str]
    hypotheticals: frozenset[str]
    modals: frozenset[str]
    clause_breaks: frozenset[str]
    triggers: frozenset[str] = field(default=frozenset())
    words: dict[str, frozenset[str]] = field(default_factory=dict)   # [settings.words] groups
    _cmp_triggers: frozenset[str] = field(default=frozenset())
    _context_ids: frozenset[str] = field(default=frozenset())
    patterns: list[tuple["re.Pattern[str]", tuple[Entry, ...]]] = field(default_factory=list)
    _guards: list[frozenset[str] | None] = field(default_factory=list)  # per pattern, see _required_chars

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, path: Path) -> "Lexicon":
        try:
            with open(path, "rb") as fh:
                raw = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:       # people edit this file by hand
            raise ValueError(f"{path}: {exc}") from exc
        settings = dict(raw.get("settings", {}))
        items = [(item, False) for item in raw.get("signal", [])] + \
                [(item, True) for item in raw.get("objection", [])]
        entries: dict[str, Entry] = {}
        for item, is_objection in items:
            entry = _entry_from_toml(item, is_objection)
            if entry.id in entries:
                raise ValueError(f"lexicon: duplicate id {entry.id!r}")
            entries[entry.id] = entry
        _check_references(entries)
        missing = [oid for oid in OBJECTION_IDS if oid not in entries]
        if missing:
            raise ValueError(f"lexicon: objection ids missing: {missing}")

        phrase_lists: dict[str, list[Entry]] = {}
        standalone_lists: dict[str, list[Entry]] = {}
        near_rules: list[NearRule] = []
        patterns: list[tuple[re.Pattern[str], tuple[Entry, ...]]] = []
        for item, _ in items:
            fired = _fired_entries(entries[item["id"]], entries)
            for term in item.get("terms", []):
                _add_unique(phrase_lists, normalize_term(term), fired)
            for term in item.get("standalone", []):
                for particle in _PARTICLES:
                    _add_unique(standalone_lists, normalize_term(term) + particle, fired)
                    # said twice: "不了不了", "不用不用"
                    _add_unique(standalone_lists, normalize_term(term) * 2 + particle, fired)
            for pattern in item.get("patterns", []):
                try:
                    patterns.append((re.compile(pattern), fired))
                except re.error as exc:
                    raise ValueError(f"lexicon: {item['id']}: bad pattern {pattern!r} ({exc})") from exc
            for rule in item.get("near", []):
                rule_fired = fired + tuple(entries[x] for x in rule.get("also", ()) if x in entries)
                near_rules.append(NearRule(
                    entries=rule_fired,
                    a=frozenset(normalize_term(t) for t in rule["a"]),
                    b=frozenset(normalize_term(t) for t in rule["b"]),
                    window=int(rule.get("window", 3)),
                    ordered=rule.get("order", "ab") == "ab",
                    unless=frozenset(normalize_term(t) for t in rule.get("unless", ()))))
        phrases = {k: tuple(v) for k, v in phrase_lists.items() if k}
        standalone = {k: tuple(v) for k, v in standalone_lists.items() if k}
        prefixes = frozenset(k[:i] for k in (*phrases, *standalone) for i in range(1, len(k) + 1))
        near_index: dict[str, list[tuple[NearRule, bool]]] = {}
        for rule in near_rules:
            for tok in rule.a:
                near_index.setdefault(tok, []).append((rule, True))
            if not rule.ordered:
                for tok in rule.b:
                    near_index.setdefault(tok, []).append((rule, False))
        lex = cls(
            settings=settings, entries=entries, phrases=phrases, standalone=standalone,
            prefixes=prefixes, near_rules=near_rules,
            near_index={k: tuple(v) for k, v in near_index.items()},
            negators=frozenset(normalize_term(t) for t in settings.get("negators", [])),
            hypotheticals=frozenset(normalize_term(t) for t in settings.get("hypotheticals", [])),
            modals=frozenset(normalize_term(t) for t in settings.get("modals", [])),
            clause_breaks=frozenset(settings.get("clause_breaks", [])),
            words={name: frozenset(normalize_term(t) for t in group)
                   for name, group in settings.get("words", {}).items()},
            patterns=patterns,
        )
        lex.triggers = prefixes | frozenset(near_index)
        if patterns:
            # one set per pattern (one C-level test a clause): the one with the fewest characters
            lex._guards = [min(needs, key=len) if (needs := _required_chars(p.pattern)) else None
                           for p, _ in patterns]
        lex._prepare_groups()
        return lex

    def _prepare_groups(self) -> None:
        """Word groups used on every turn, looked up once."""
        g = self._group
        self._cmp_triggers = g("comparison") | frozenset(n + "比" for n in g("price_nouns"))
        self._context_ids = frozenset({"timing", "no_need", "has_supplier", "switching", "competitor",
                                       "chose_other", "refusal"}) | g("price_asks")

    def topic_words(self) -> frozenset[str]:
        """Named things (competitor brands) are what people talk about: keyword material."""
        return frozenset(k for k, entries in self.phrases.items()
                         if any(e.id == "competitor" for e in entries))

    def segmentation_words(self) -> Iterable[str]:
        """Chinese lexicon words that jieba should keep whole (so "靠谱" is not "靠/谱")."""
        words = set(self.phrases)
        for rule in self.near_rules:
            words |= rule.a | rule.b
        for word in sorted(words):
            if len(word) >= 2 and not word.isascii():
                yield word

    # ------------------------------------------------------------------ matching
    def find(self, tokens: list[str]) -> list[Hit]:
        """All lexicon hits in a token list (lower-case, no whitespace tokens), left to right.

        Only tokens that can start a phrase or a near rule are visited, which keeps the cost
        per token to one set lookup done in a comprehension.
        """
        triggers = self.triggers
        candidates = [i for i, tok in enumerate(tokens) if tok in triggers]
        hits: list[Hit] = []
        covered_until = 0
        for i in candidates:
            if i < covered_until:
                continue
            end, entries, is_near = self._match_at(tokens, i)
            if not entries:
                continue
            self._add_hits(hits, tokens, entries, i, end, is_near)
            # A phrase owns its tokens; a near rule only its anchor, so words between its two
            # ends still count ("和/金蝶/签了" is a chosen vendor and a named competitor).
            covered_until = i + 1 if is_near else end
        self._match_inside_long_tokens(tokens, hits)
        if self.words:
            self._comparisons(tokens, hits)
            if hits:
                hits[:] = self._in_context(tokens, hits)
        return hits

    def find_patterns(self, tokens: list[str]) -> list[Hit]:
        """Regular-expression entries, run over the clause text rebuilt from the tokens (so
        that a match maps back to token positions). Only used on customer text."""
        if not self.patterns:
            return []
        text = "".join(tokens)
        found: list[Hit] = []
        bounds: list[int] | None = None
        chars = set(text)
        for (pattern, entries), guard in zip(self.patterns, self._guards or [None] * len(self.patterns)):
            if guard is not None and guard.isdisjoint(chars):
                continue  # a character every match needs is not in the clause
            for m in pattern.finditer(text):
                if bounds is None:
                    bounds, at = [], 0
                    for tok in tokens:
                        bounds.append(at)
                        at += len(tok)
                start = max(0, bisect_right(bounds, m.start()) - 1)
                end = max(start + 1, bisect_left(bounds, m.end()))
                negated = self._negator_at(tokens, start, end, False) >= 0
                if negated:
                    continue
                found.extend(Hit(entry, start, end) for entry in entries)
        return found

    def _match_at(self, tokens: list[str], i: int) -> tuple[int, tuple[Entry, ...], bool]:
        end, entries = self._standalone(tokens, i)
        if entries:
            return end, entries, False
        end, entries = self._longest_phrase(tokens, i)
        if end - i <= 1:
            near = self._near(tokens, i)
            if near is not None:
                return near[0], near[1], True
        return end, entries, False

    def _add_hits(self, hits: list[Hit], tokens: list[str], entries: tuple[Entry, ...],
                  start: int, end: int, is_near: bool) -> None:
        negator = self._negator_at(tokens, start, end, is_near)
        negated = negator >= 0
        hypothetical = None
        for entry in entries:
            if entry.kind == "negative" or entry.id == "no_need":
                if hypothetical is None:
                    hypothetical = self._looks_back_for(tokens, start, self.hypotheticals,
                                                        "hypothetical_window")
                if hypothetical:
                    continue            # "如果不满意…" is not a complaint
            if entry.after_modal and self._looks_back_for(tokens, start, self.modals, "modal_window"):
                entry = self.entries.get(entry.after_modal, entry)
            hit = self._resolve_negation(entry, start, end, negated)
            if hit is not None:
                if hit.negated and negator < start:     # quote "没有这方面的需求", not "需求"
                    hit = hit._replace(start=negator)
                hits.append(hit)

    def _standalone(self, tokens: list[str], i: int) -> tuple[int, tuple[Entry, ...]]:
        """A whole clause that is just "不用" / "算了吧": a refusal said on its own."""
        breaks = self.clause_breaks
        if not self.standalone or (i > 0 and tokens[i - 1] not in breaks):
            return i, ()
        text, j = "", i
        while j < len(tokens) and tokens[j] not in breaks and j - i < MAX_PHRASE_TOKENS:
            text += tokens[j]
            if text not in self.prefixes:
                return i, ()
            j += 1
        if j < len(tokens) and tokens[j] not in breaks:
            return i, ()
        return j, self.standalone.get(text, ())

    def _longest_phrase(self, tokens: list[str], i: int) -> tuple[int, tuple[Entry, ...]]:
        phrases, prefixes = self.phrases, self.prefixes
        text = tokens[i]
        best_end, best = i, ()
        if text in phrases:
            best_end, best = i + 1, phrases[text]
        limit = min(len(tokens), i + MAX_PHRASE_TOKENS)
        j = i + 1
        while j < limit:
            text += tokens[j]
            if text not in prefixes:
                break
            if text in phrases:
                best_end, best = j + 1, phrases[text]
            j += 1
        return best_end, best

    def _near(self, tokens: list[str], i: int) -> tuple[int, tuple[Entry, ...]] | None:
        rules = self.near_index.get(tokens[i])
        if not rules:
            return None
        breaks = self.clause_breaks
        for rule, token_in_a in rules:
            wanted = rule.b if token_in_a else rule.a
            limit = min(len(tokens), i + 1 + rule.window)
            for j in range(i + 1, limit):
                tok = tokens[j]
                if tok in breaks or tok in rule.unless:
                    break
                if tok in wanted:
                    return j + 1, rule.entries
        return None

    def _match_inside_long_tokens(self, tokens: list[str], hits: list[Hit]) -> None:
        """jieba's dictionary glues some phrases to their neighbours ("很着急", "没钱买").
        A long token that matched nothing is checked for a listed phrase at its start or end."""
        phrases = self.phrases
        long = [i for i, tok in enumerate(tokens) if len(tok) > 2]
        covered = {i for h in hits for i in range(h.start, h.end)} if long else ()
        for i in long:
            tok = tokens[i]
            if i in covered or tok in phrases:
                continue
            for k in range(len(tok) - 1, 1, -1):          # longest part first
                entries = phrases.get(tok[:k]) or phrases.get(tok[-k:])
                if entries:
                    self._add_hits(hits, tokens, entries, i, i + 1, False)
                    break
        if len(hits) > 1:
            hits.sort(key=_START)

    def _negator_at(self, tokens: list[str], start: int, end: int, is_near: bool) -> int:
        """Index of a negator within the window before the hit, or between the two words of a
        near hit ("价格不高"); -1 if none. A listed phrase carries its own negation
        ("没有预算"), so negators inside a phrase do not count. "批不批" (A-not-A) is a
        question, not a negation."""
        negators, breaks = self.negators, self.clause_breaks
        window = int(self.settings.get("negation_window", 3))
        for j in range(start - 1, max(-1, start - 1 - window), -1):
            tok = tokens[j]
            if tok in breaks:
                break
            if tok in negators and not _is_a_not_a(tokens, j):
                return j
        if is_near:
            for j in range(start + 1, end - 1):
                if tokens[j] in negators:
                    return j
        return -1

    def _looks_back_for(self, tokens: list[str], start: int, markers: frozenset[str],
                        window_setting: str) -> bool:
        """A marker (如果…, 要…) shortly before the hit, in the same clause."""
        window = int(self.settings.get(window_setting, 4))
        for j in range(start - 1, max(-1, start - 1 - window), -1):
            if tokens[j] in self.clause_breaks:
                return False
            if tokens[j] in markers:
                return True
        return False

    def _resolve_negation(self, entry: Entry, start: int, end: int, negated: bool) -> Hit | None:
        if not negated:
            return Hit(entry, start, end)
        if entry.negated == "drop":
            return None
        target = self.entries.get(entry.negated)
        return Hit(target, start, end, negated=True) if target else None


_START = itemgetter(1)        # Hit.start


def _is_a_not_a(tokens: list[str], j: int) -> bool:
    return 0 < j < len(tokens) - 1 and tokens[j - 1] == tokens[j + 1]


def _fired_entries(entry: Entry, entries: dict[str, Entry]) -> tuple[Entry, ...]:
    return (entry,) + tuple(entries[x] for x in entry.also)


def _add_unique(index: dict[str, list[Entry]], key: str, fired: tuple[Entry, ...]) -> None:
    bucket = index.setdefault(key, [])
    for entry in fired:
        if entry not in bucket:
            bucket.append(entry)


def _entry_from_toml(item: dict, is_objection: bool) -> Entry:
    return Entry(
        id=item["id"],
        label_zh=item.get("label_zh", item["id"]),
        label_en=item.get("label_en", item["id"]),
        kind="objection" if is_objection else item.get("kind", "engage"),
        weight=float(item.get("weight", 0)),
        negated=item.get("negated", "drop"),
        priority=item.get("priority", ""),
        is_objection=is_objection,
        also=tuple(item.get("also", ())),
        scope=item.get("scope", "customer"),
        after_modal=item.get("after_modal", ""),
    )


def _check_references(entries: dict[str, Entry]) -> None:
    for entry in entries.values():
        if entry.negated != "drop" and entry.negated not in entries:
            raise ValueError(f"lexicon: {entry.id} negated → unknown id {entry.negated!r}")
        for other in entry.also:
            if other not in entries:
                raise ValueError(f"lexicon: {entry.id} also → unknown id {other!r}")


def _required_chars(pattern: str) -> tuple[frozenset[str], ...]:
    """Sets of characters of which every match of ``pattern`` contains at least one each (read
    from the parsed pattern's top-level sequence: its literals, alternations whose branches all
    need one, repeats of at least one). A clause missing one of them cannot match: the pattern
    is not tried. Empty when nothing is certain (then the pattern is always tried)."""
    import re._parser as sre  # the parser re itself uses (3.11+)

    def need(seq) -> list[frozenset[str]]:
        out: list[frozenset[str]] = []
        for op, av in seq:
            if op is sre.LITERAL:
                out.append(frozenset(chr(av)))
            elif op is sre.SUBPATTERN:
                if not av[1] & re.IGNORECASE:  # (?i:…) matches other characters than it spells
                    out.extend(need(av[3]))
            elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and av[0] >= 1:
                out.extend(need(av[2]))
            elif op is sre.BRANCH:
                firsts = [need(branch) for branch in av[1]]
                if all(firsts):  # each branch needs something: one of the branches' first needs
                    out.append(frozenset().union(*(f[0] for f in firsts)))
            elif op is sre.IN and all(o is sre.LITERAL for o, _ in av):
                out.append(frozenset(chr(c) for _, c in av))
        return out

    try:
        parsed = sre.parse(pattern)
    except re.error:
        return ()
    if parsed.state.flags & (re.IGNORECASE | re.VERBOSE):
        return ()
    return tuple(need(parsed))
