"""Character n-grams as integer keys, shared by the chat-level heads (nlp/model.py) and the clause
head (nlp/clause_head.py): a vocabulary's n-grams are looked up in a text with numpy, without a
string per position."""
from __future__ import annotations

import math

# An n-gram as one 64-bit key: code points take 21 bits each; a trigram fills bits 0-62, a bigram
# bits 0-41 plus _TAG2 (bit 63), a single character bits 0-20 plus _TAG1 (bits 63 and 62).
_SHIFT1, _SHIFT2 = 21, 42
_TAG2 = 1 << 63
_TAG1 = _TAG2 | 1 << 62
# the longest text one lookup table of 1 + log(n) covers before it grows
TABLE_SIZE = 6000


def gram_key(gram: str) -> int:
    codes = [ord(ch) for ch in gram]
    if len(codes) == 1:
        return _TAG1 | codes[0]
    if len(codes) == 2:
        return _TAG2 | codes[0] << _SHIFT1 | codes[1]
    if len(codes) == 3:
        return codes[0] << _SHIFT2 | codes[1] << _SHIFT1 | codes[2]
    return (1 << 64) - 1          # not an n-gram ngrams() counts: never matches


def vocab_keys(vocab: dict[str, int]):
    """(sorted keys, their vocabulary columns) of a vocabulary (the space alone is never counted)."""
    import numpy as np

    pairs = sorted((gram_key(g), j) for g, j in vocab.items() if g != " ")
    return (np.asarray([k for k, _ in pairs], dtype=np.uint64),
            np.asarray([j for _, j in pairs], dtype=np.int64))


def text_keys(text: str, starts: bool = False):
    """(keys, start positions or None) of every 1-, 2- and 3-gram of text, in that order."""
    import numpy as np

    c = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    s1, s2, t1, t2 = np.uint64(_SHIFT1), np.uint64(_SHIFT2), np.uint64(_TAG1), np.uint64(_TAG2)
    keys = np.concatenate((c | t1, (c[:-1] << s1) | c[1:] | t2, (c[:-2] << s2) | (c[1:-1] << s1) | c[2:]))
    if not starts:
        return keys, None
    n = len(c)
    return keys, np.concatenate((np.arange(n), np.arange(max(0, n - 1)), np.arange(max(0, n - 2))))


def lookup(keys, vkeys):
    """Index into vkeys of each key, -1 where the vocabulary does not know it."""
    import numpy as np

    if not len(vkeys) or not len(keys):
        return np.full(len(keys), -1, dtype=np.int64)
    at = np.searchsorted(vkeys, keys)
    np.minimum(at, len(vkeys) - 1, out=at)
    return np.where(vkeys[at] == keys, at, -1)


_SUBLINEAR: list = [None]


def sublinear(counts):
    """1 + log(n) per count, from a table filled with math.log (the same floats as before)."""
    import numpy as np

    table = _SUBLINEAR[0]
    top = int(counts.max()) if len(counts) else 0
    if table is None or top >= len(table):
        size = max(top + 1, TABLE_SIZE + 1)
        table = np.asarray([0.0] + [1.0 + math.log(n) for n in range(1, size)], dtype=np.float64)
        _SUBLINEAR[0] = table
    return table[counts]
