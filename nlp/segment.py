"""jieba's dictionary segmentation (HMM off) on a compact, pre-built dictionary.

Why: a `jieba.Tokenizer` keeps its prefix dictionary as a Python dict of ~500,000 str → int
entries (every word of jieba's dict.txt, ours, and every prefix of them) — about 60 MB resident
— and `jieba.analyse`'s IDF table is another dict of 270,000 entries (plus jieba.posseg's HMM
tables, which importing jieba.analyse loads): together about 160 MB of a 270 MB bot.

Here the same words live in a MARISA trie (a few MB, memory-mapped from a cache file) with their
log-frequencies in a flat array, and the cut is jieba's own algorithm, step for step:

* the text is split into blocks with jieba's regular expressions (re_han_default / re_skip_default);
* in a block, the candidates at position k are the dictionary words (frequency > 0) that start
  there — what jieba's get_DAG finds walking its prefix dict, found here by one
  `trie.iter_prefixes_with_ids()` call; a position with none is a single character;
* the best route maximises the sum of log(freq) − log(total) from the end, with jieba's
  arithmetic in jieba's order ((log(freq) − log(total)) + route, the first term stored per word)
  and its tie-break (the longer word), so the floats are identical;
* single ASCII letters/digits of the route are glued into one token, as __cut_DAG_NO_HMM does;
* most positions of chat text (≈ 60%) start no word longer than their character: a flag table
  over character pairs (pairs.flags, one byte per hashed pair that starts a word of 2+
  characters) says so without asking the trie, and the character's own log-frequency comes
  from a per-character table. A flag set by a hash collision only costs the trie call.

The result is the same token list as `jieba.Tokenizer.lcut(text, HMM=False)` on a tokenizer set up
with the same dictionary (tests/test_nlp_segment.py checks it on the corpus).

The dictionary is built once per content (jieba's dict.txt and idf.txt, our userdict.txt and
lexicon.toml) in a child process, so the big dicts never live in the bot's own process, and kept
in a cache directory ($SALESBOT_CACHE_DIR, else $XDG_CACHE_HOME/salesbot, else ~/.cache/salesbot).
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import math
import mmap
import os
import re
import shutil
import subprocess
import sys
import tempfile
from array import array
from pathlib import Path

log = logging.getLogger(__name__)

FORMAT = 3
# pairs.flags: byte (a * _PAIR_MUL + b) & _PAIR_MASK is 1 when some word of 2+ characters starts
# with the characters of code points a, b (4 MB, memory-mapped; ~4% of other pairs collide).
_PAIR_BITS = 22
_PAIR_MASK = (1 << _PAIR_BITS) - 1
_PAIR_MUL = 40503
KEEP_BUILDS = 8
ROOT = Path(__file__).resolve().parent.parent

# jieba 0.42.1's patterns (jieba/__init__.py): blocks it segments, whitespace it keeps, ASCII it glues.
_RE_HAN = re.compile("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]+)", re.U)
_RE_SKIP = re.compile("(\r\n|\\s)", re.U)
_RE_ENG = re.compile("[a-zA-Z0-9]", re.U)


class CompactTokenizer:
    """Read-only after construction (safe from several threads)."""

    def __init__(self, trie, logp: array, total: int, maxlen: int, pair_flags=None):
        self._prefixes = trie.iter_prefixes_with_ids
        self._word_id = trie.get
        self._pair_flags = pair_flags       # None: every position asks the trie
        self._single: dict[str, float] = {}  # character → its own logp (or the unknown one)
        self._logp = logp             # log(freq) - log(total) per word id
        self.total = total
        self._alone = math.log(1) - math.log(total)
        self._maxlen = maxlen
        self.words = len(trie)

    def lcut(self, sentence: str, HMM: bool = False) -> list[str]:   # noqa: N803  (jieba's name)
        if HMM:
            raise ValueError("the compact dictionary segments without HMM only")
        out: list[str] = []
        han_match = _RE_HAN.match
        for blk in _RE_HAN.split(sentence):
            if len(blk) < 2:
                if blk:               # one character (a word, punctuation or a space): itself
                    out.append(blk)
                continue
            if han_match(blk):
                self._cut_block(blk, out)
            else:
                for x in _RE_SKIP.split(blk):
                    if _RE_SKIP.match(x):
                        out.append(x)
                    else:
                        out.extend(x)
        return out

    def _cut_block(self, sentence: str, out: list[str]) -> None:
        n = len(sentence)
        prefixes, logp, maxlen = self._prefixes, self._logp, self._maxlen
        alone = self._alone
        flags, single = self._pair_flags, self._single
        best = [0.0] * (n + 1)        # route[x][0] in jieba
        end = [0] * (n + 1)           # route[x][1] + 1
        codes = list(map(ord, sentence))
        for idx in range(n - 1, -1, -1):
            if flags is not None and (idx == n - 1 or not flags[(codes[idx] * _PAIR_MUL + codes[idx + 1])
                                                                & _PAIR_MASK]):
                # No word of 2+ characters starts here: the character alone (a word or not).
                ch = sentence[idx]
                own = single.get(ch)
                if own is None:
                    own = self._single_logp(ch)
                best[idx] = own + best[idx + 1]
                end[idx] = idx + 1
                continue
            bp = None
            for word, i in prefixes(sentence[idx:idx + maxlen]):
                x = idx + len(word)
                p = logp[i] + best[x]          # (log(freq) - log(total)) + route, as jieba adds
                # Candidates come shortest first, so on a tie the longer word wins, as in jieba.
                if bp is None or p >= bp:
                    bp = p
                    bx = x
            if bp is None:            # no word starts here: the character alone, freq 1
                bp = alone + best[idx + 1]
                bx = idx + 1
            best[idx] = bp
            end[idx] = bx
        x = 0
        buf = ""
        while x < n:
            y = end[x]
            if y - x == 1 and _RE_ENG.match(sentence[x]):
                buf += sentence[x]
            else:
                if buf:
                    out.append(buf)
                    buf = ""
                out.append(sentence[x:y])
            x = y
        if buf:
            out.append(buf)

    def _single_logp(self, ch: str) -> float:
        """A character's own term of the route: its logp if it is a word, else freq 1's."""
        i = self._word_id(ch)
        own = self._alone if i is None else self._logp[i]
        self._single[ch] = own          # one entry per character seen (a few thousand)
        return own


def pair_flags(words) -> bytearray:
    """The flag table of pairs.flags for these words (see _PAIR_MUL)."""
    flags = bytearray(1 << _PAIR_BITS)
    for w in words:
        if len(w) >= 2:
            flags[(ord(w[0]) * _PAIR_MUL + ord(w[1])) & _PAIR_MASK] = 1
    return flags


class FloatTable:
    """A read-only str → float mapping (jieba's IDF table) on a trie and an array."""

    def __init__(self, trie, values: array):
        self._trie = trie
        self._values = values

    def get(self, key: str, default=None):
        i = self._trie.get(key)
        return default if i is None else self._values[i]

    def __contains__(self, key: str) -> bool:
        return key in self._trie

    def __len__(self) -> int:
        return len(self._trie)


# ------------------------------------------------------------------ the full jieba tokenizer
def read_user_dict(path: Path) -> list[tuple[str, int | None, str | None]]:
    """userdict.txt as (word, freq, tag); jieba's own load_userdict has no `#` comments."""
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        tag = parts[-1] if len(parts) > 1 and not parts[-1].isdigit() else None
        entries.append((parts[0], freq, tag))
    return entries


def user_words(path: Path) -> set[str]:
    return {word.lower() for word, _, _ in read_user_dict(path)}


def jieba_tokenizer(data_dir: Path, lexicon=None):
    """A `jieba.Tokenizer` with jieba's dictionary, our user dictionary and the lexicon's words:
    what the compact dictionary is built from, and the baseline bench.nlp measures against."""
    import jieba

    from nlp.lexicon import Lexicon

    jieba.setLogLevel(logging.WARNING)       # jieba logs "Building prefix dict…" at DEBUG
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word, freq, tag in read_user_dict(data_dir / "userdict.txt"):
        tokenizer.add_word(word, freq, tag)
        if word.lower() != word:
            tokenizer.add_word(word.lower(), freq, tag)   # we cut lower-cased text
    if lexicon is None:
        lexicon = Lexicon.load(data_dir / "lexicon.toml")
    for word in lexicon.segmentation_words():
        # Only raises a word's frequency as far as needed to keep it whole on its own;
        # ordinary context still wins ("不需要了解" stays 不需要/了解, not 不需要了/解).
        tokenizer.add_word(word)
    return tokenizer


def jieba_idf() -> tuple[dict[str, float], float]:
    """jieba.analyse's IDF table and median as its IDFLoader reads them, without importing
    jieba.analyse (which imports jieba.posseg and its HMM tables, ~30 MB)."""
    idf: dict[str, float] = {}
    for line in (_jieba_dir() / "analyse" / "idf.txt").read_bytes().decode("utf-8").splitlines():
        word, freq = line.strip().split(" ")
        idf[word] = float(freq)
    return idf, sorted(idf.values())[len(idf) // 2]


# ------------------------------------------------------------------------- the cache
def _jieba_dir() -> Path:
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("jieba is not installed")
    return Path(list(spec.submodule_search_locations)[0])


def _key(data_dir: Path) -> str:
    h = hashlib.sha256(f"format {FORMAT}\n".encode())
    jdir = _jieba_dir()
    for path in (jdir / "__init__.py", jdir / "dict.txt", jdir / "analyse" / "idf.txt"):
        st = path.stat()
        h.update(f"{path} {st.st_size} {st.st_mtime_ns}\n".encode())
    for name in ("userdict.txt", "lexicon.toml"):
        h.update((data_dir / name).read_bytes())
    return h.hexdigest()[:20]


def cache_dir() -> Path:
    explicit = os.environ.get("SALESBOT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "salesbot"


def build(data_dir: Path, target: Path) -> None:
    """Write the compact dictionary for data_dir into the directory target (atomically)."""
    import marisa_trie

    tokenizer = jieba_tokenizer(data_dir)
    words = [w for w, f in tokenizer.FREQ.items() if f > 0]
    trie = marisa_trie.Trie(words)
    flags = pair_flags(words)
    logtotal = math.log(tokenizer.total)
    logp = array("d", bytes(8 * len(trie)))
    for w in words:
        logp[trie[w]] = math.log(tokenizer.FREQ[w]) - logtotal
    meta = {"format": FORMAT, "total": tokenizer.total, "maxlen": max(map(len, words))}
    del tokenizer, words

    idf, meta["idf_median"] = jieba_idf()
    idf_trie = marisa_trie.Trie(idf)
    values = array("d", bytes(8 * len(idf_trie)))
    for w, v in idf.items():
        values[idf_trie[w]] = v

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        trie.save(str(tmp / "words.marisa"))
        (tmp / "words.logp").write_bytes(logp.tobytes())
        (tmp / "pairs.flags").write_bytes(flags)
        idf_trie.save(str(tmp / "idf.marisa"))
        (tmp / "idf.values").write_bytes(values.tobytes())
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        try:
            os.rename(tmp, target)
        except OSError:           # built meanwhile by another process: theirs is the same
            if not (target / "meta.json").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _prune(target.parent, keep=KEEP_BUILDS)


def _prune(base: Path, keep: int) -> None:
    """Drop all but the `keep` newest builds (one per dictionary change; ~7 MB each). A process
    still using a dropped one keeps its memory map."""
    builds = sorted((p for p in base.glob("dict-*") if (p / "meta.json").exists()),
                    key=lambda p: (p / "meta.json").stat().st_mtime, reverse=True)
    for old in builds[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def _build_in_child(data_dir: Path, target: Path) -> bool:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    try:
        result = subprocess.run([sys.executable, "-m", "nlp.segment", str(data_dir), str(target)],
                                cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("building the compact dictionary in a child failed: %s", exc)
        return False
    if result.returncode != 0:
        log.warning("building the compact dictionary in a child failed: %s", result.stderr[-2000:])
    return result.returncode == 0 and (target / "meta.json").exists()


def load(data_dir: Path) -> tuple[CompactTokenizer, FloatTable, float]:
    """The compact tokenizer and jieba's IDF table for data_dir, built first if not cached."""
    import marisa_trie

    name = f"dict-{_key(data_dir)}"
    target = None
    for base in (cache_dir(), Path(tempfile.gettempdir()) / f"salesbot-{os.getuid()}"):
        if (base / name / "meta.json").exists() or _build_in_child(data_dir, base / name):
            target = base / name
            break
    if target is None:            # no child process or no writable directory: build it here
        target = Path(tempfile.mkdtemp(prefix="salesbot-dict-")) / name
        build(data_dir, target)
    meta = json.loads((target / "meta.json").read_text(encoding="utf-8"))
    trie = marisa_trie.Trie().mmap(str(target / "words.marisa"))
    logp = array("d")
    logp.frombytes((target / "words.logp").read_bytes())
    idf_trie = marisa_trie.Trie().mmap(str(target / "idf.marisa"))
    values = array("d")
    values.frombytes((target / "idf.values").read_bytes())
    with open(target / "pairs.flags", "rb") as fh:       # shared, read-only pages
        flags = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    tokenizer = CompactTokenizer(trie, logp, int(meta["total"]), int(meta["maxlen"]), flags)
    return tokenizer, FloatTable(idf_trie, values), float(meta["idf_median"])


if __name__ == "__main__":
    build(Path(sys.argv[1]), Path(sys.argv[2]))
