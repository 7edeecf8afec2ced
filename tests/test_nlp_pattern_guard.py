"""The lexicon's clause patterns are tried only on clauses holding a character every match needs
(nlp/lexicon.py _required_chars): the guard must never skip a clause the pattern matches."""
from __future__ import annotations

import json
from pathlib import Path

from nlp import engine
from nlp.lexicon import _required_chars

ROOT = Path(__file__).resolve().parents[1]


def test_required_characters_read_from_the_pattern():
    assert _required_chars("(?:x)?y") == (frozenset("y"),)
    assert _required_chars("[ab]c") == (frozenset("ab"), frozenset("c"))
    assert _required_chars("a|bc|") == ()                      # the empty branch needs nothing
    assert _required_chars("(?:那边|那家|家)给的") == (frozenset("那家"), *map(frozenset, "给的"))
    assert _required_chars("[^a]b") == (frozenset("b"),)         # a negated class needs nothing known
    assert _required_chars("(?i:a)b") == (frozenset("b"),)       # (?i:a) also matches A
    assert _required_chars("(?i)ab") == ()
    assert _required_chars("x{0,3}y+") == (frozenset("y"),)


def test_the_guard_never_skips_a_clause_a_pattern_matches():
    lexicon = engine.warm_up().lexicon
    assert lexicon.patterns and all(g is not None for g in lexicon._guards)
    lines = []
    for name in ("nlp/data/written.jsonl", "tests/data/nlp_dev.jsonl"):
        for row in (ROOT / name).read_text("utf-8").splitlines():
            if row.strip():
                lines.extend(json.loads(row)["text"].lower().split("\n"))
    skipped = matched = 0
    for line in lines:
        chars = set(line)
        for (pattern, _), guard in zip(lexicon.patterns, lexicon._guards):
            hit = pattern.search(line) is not None
            matched += hit
            if guard.isdisjoint(chars):
                skipped += 1
                assert not hit, (pattern.pattern, line)
    assert matched > 100 and skipped > len(lines) * len(lexicon.patterns) // 2
