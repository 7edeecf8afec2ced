"""The lexicon's family rules, read over a clause's tokens after the lists matched (nlp/lexicon.py):
comparisons ("比 X 贵" is a price complaint whatever X is), and the context filters that drop or turn a
hit (hypotheticals, a timing word after a clock time, "no need" for part of a product, a vendor named
with 对接/集成 …). A mixin of `Lexicon`: it reads the lexicon's word groups and entries."""
from __future__ import annotations

import re

from nlp.lexicon_entries import Hit


class FamilyRules:
    """Needs `words`, `entries`, `settings`, `clause_breaks`, `negators`, `_cmp_triggers` and
    `_context_ids` (Lexicon's fields) and its `_longest_phrase` / `_standalone` matchers."""

    def _group(self, name: str) -> frozenset[str]:
        return self.words.get(name, frozenset())

    def _comparisons(self, tokens: list[str], hits: list[Hit]) -> None:
        """"比 X 贵" / "X 比你们便宜" / "比 X 也没便宜多少" → price complaint.

        The object of 比 decides the direction: compared with the rep's side (你们), cheaper
        is the complaint; compared with anyone else, dearer is. A negation in between flips it.
        A glued "价格比" (jieba) counts as 比 too."""
        triggers = self._cmp_triggers
        price = self.entries.get("price")
        if price is None or triggers.isdisjoint(tokens):
            return
        starts = [i for i, tok in enumerate(tokens) if tok in triggers]
        dear, cheap, you = self._group("dearer"), self._group("cheaper"), self._group("rep_side")
        breaks, negators = self.clause_breaks, self.negators
        window = int(self.settings.get("comparison_window", 7))
        for i in starts:
            against_you = i + 1 < len(tokens) and tokens[i + 1] in you
            negated = False
            for j in range(i + 1, min(len(tokens), i + 1 + window)):
                tok = tokens[j]
                if tok in breaks:
                    break
                if tok in negators:
                    negated = True
                    continue
                word = _strip_prefix(tok, you) if j == i + 1 else tok    # glued "你们贵"
                if word != tok:
                    against_you = True
                if word in dear:
                    complaint = not against_you
                elif word in cheap:
                    complaint = against_you
                else:
                    continue
                if complaint == negated:
                    # In our favour ("你们比别家便宜", "别家比你们贵"): the bare "贵"/"便宜" it
                    # contains is no complaint either.
                    hits[:] = [h for h in hits if not (h.entry is price and i - 3 <= h.start <= j)]
                elif not any(h.entry is price and h.start <= j and h.end > i for h in hits):
                    hits.append(Hit(price, i, j + 1))
                    hits.sort(key=lambda h: h.start)
                break

    def _in_context(self, tokens: list[str], hits: list[Hit]) -> list[Hit]:
        """Drop or re-read hits that their neighbours contradict (see the module docstring)."""
        context_ids = self._context_ids
        if not any(h.entry.id in context_ids for h in hits):
            return hits
        clock, partial = self._group("clock_suffixes"), self._group("partial")
        switch, integration = self._group("switch"), self._group("integration")
        ship = self._group("ship_verbs")
        price_at = [h.start for h in hits if h.entry.id == "price"]
        asks = self._group("price_asks")
        has_supplier = any(h.entry.id in ("has_supplier", "competitor") for h in hits)
        past, markers = self._group("past"), self._group("comparison")
        kept: list[Hit] = []
        for hit in hits:
            entry = hit.entry
            if entry.id in asks and price_at and self._same_clause(tokens, hit.start, price_at):
                continue                            # "报价太离谱了" complains, does not ask
            if entry.id == "switching" and not has_supplier and not any(
                    t in self._group("incumbent_refs") for t in tokens):
                refusal = self.entries.get("refusal")
                if refusal is not None:
                    kept.append(Hit(refusal, hit.start, hit.end))
                continue                            # "今年就不续了" (ours): a refusal
            if entry.id == "timing" and hit.start > 0 and _is_clock(tokens[hit.start - 1], clock):
                continue                            # "下午两点以后吧" sets a time
            if entry.id == "no_need":
                if self._before(tokens, hit.start, partial, 3):
                    continue                        # "功能一半用不到" is about value
                if has_supplier and any(t in switch for t in tokens[hit.start:hit.end + 2]):
                    continue                        # "一直用X的，没有换的打算": keeps its vendor
            if entry.id == "has_supplier" and "".join(tokens[hit.start:hit.end]) not in self.phrases:
                if self._before(tokens, hit.start, markers, 2):
                    continue                        # "比我们现在用的高" compares, names no vendor
                if any(t in past for t in tokens[max(0, hit.start - 2):hit.end]):
                    continue                        # "之前在用销售易": a vendor they left
            if entry.id in ("chose_other", "has_supplier", "refusal") and any(
                    t in self._group("rep_side") for t in tokens[hit.end:hit.end + 2]):
                continue                            # "还是用你们的" chooses us
            if entry.id == "competitor":
                if integration and self._in_clause(tokens, hit, integration):
                    continue                        # "能跟金蝶对接吗" is an integration question
                if hit.start > 0 and tokens[hit.start - 1] in ship:
                    continue                        # "能发顺丰吗" is a shipping method
            kept.append(hit)
        if len(kept) != len(hits):
            # one phrase may now fire an entry twice ("不需要换" + a listed "不换")
            seen, unique = set(), []
            for hit in kept:
                key = (hit.entry.id, hit.start)
                if key not in seen:
                    seen.add(key)
                    unique.append(hit)
            return unique
        return kept

    def _same_clause(self, tokens: list[str], at: int, others: list[int]) -> bool:
        breaks = self.clause_breaks
        for other in others:
            lo, hi = min(at, other), max(at, other)
            if not any(tokens[j] in breaks for j in range(lo, hi)):
                return True
        return False

    def _before(self, tokens: list[str], start: int, group: frozenset[str], window: int) -> bool:
        for j in range(start - 1, max(-1, start - 1 - window), -1):
            if tokens[j] in self.clause_breaks:
                return False
            if tokens[j] in group:
                return True
        return False

    def _in_clause(self, tokens: list[str], hit: Hit, group: frozenset[str]) -> bool:
        breaks = self.clause_breaks
        j = hit.start - 1
        while j >= 0 and tokens[j] not in breaks:
            if tokens[j] in group:
                return True
            j -= 1
        j = hit.end
        while j < len(tokens) and tokens[j] not in breaks:
            if tokens[j] in group:
                return True
            j += 1
        return False


def _strip_prefix(token: str, prefixes: frozenset[str]) -> str:
    """"你们贵" → "贵" when the token starts with one of the prefixes (longest first)."""
    for size in (3, 2, 1):
        if len(token) > size and token[:size] in prefixes:
            return token[size:]
    return token


_CLOCK = re.compile(r"^(?:\d{1,2}|[一二两三四五六七八九十]{1,3})(?:点|点半|点钟|号|:\d{2})$")


def _is_clock(token: str, suffixes: frozenset[str]) -> bool:
    """"两点", "3号", "10:30", or a listed day/time word ("周四", "下午")."""
    return token in suffixes or bool(_CLOCK.match(token))
