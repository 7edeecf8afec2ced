"""Shared NLP resources, loaded once: a jieba tokenizer with the sales user dictionary, the
lexicon matcher, the keyword IDF table and the default scripts.

The tokenizer is jieba's dictionary segmentation with HMM off, on a compact pre-built copy of
the dictionary (nlp/segment.py: jieba's words plus our user dictionary and lexicon words in a
memory-mapped trie; the same cuts as `jieba.Tokenizer().lcut(text, HMM=False)` set up the same
way, for ~150 MB less resident memory). Loading it takes milliseconds once built; the first
start after a dictionary change builds it in a child process (a few seconds). The bot calls
`warm_up()` at start-up, in a worker thread, before the first paste. `warm_up()` is
thread-safe and idempotent; `analyze()` calls it too, so forgetting it only costs latency.

The tokenizer is our own object, not the global `jieba.dt`: our words never change segmentation
for other code in the process. After warm-up it is only read (safe from several threads).
"""
from __future__ import annotations

import logging
import re
import threading
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from nlp import segment
from nlp.keywords import IdfTable
from nlp.lexicon import Lexicon

DATA_DIR = Path(__file__).parent / "data"

log = logging.getLogger(__name__)

_WHITESPACE = re.compile(r"\s")

# See cut(): segmentation without jieba's HMM new-word discovery.
USE_HMM = False


@dataclass(frozen=True)
class Resources:
    tokenizer: object            # segment.CompactTokenizer (jieba.Tokenizer with HMM on)
    lexicon: Lexicon
    idf: IdfTable
    scripts: dict[str, str]      # objection id → default script
    next_steps: dict[str, str]   # level → next-step hint
    load_seconds: float


_lock = threading.Lock()
_resources: Resources | None = None


def warm_up(data_dir: Path | None = None) -> Resources:
    """Load everything (idempotent, thread-safe). Returns the shared resources."""
    global _resources
    if _resources is not None:
        return _resources
    with _lock:
        if _resources is None:
            _resources = _load(Path(data_dir) if data_dir else DATA_DIR)
    return _resources


def is_ready() -> bool:
    return _resources is not None


def resources() -> Resources:
    return _resources if _resources is not None else warm_up()


def cut(text: str) -> list[str]:
    """Segment with the shared tokenizer: lower-case tokens; whitespace dropped, or kept as a
    "\n" clause break where it separates Chinese words (see _spaces_to_breaks).

    Lower-casing the text first (one C call) keeps English lexicon terms case-insensitive.
    HMM new-word discovery is off: every lexicon and user-dictionary word is in the
    dictionary anyway, HMM glues unknown characters into odd words ("王总在") that hide
    signals, and it costs ~25% of the segmentation time on chat text.
    """
    lowered = text.lower()
    if not _WHITESPACE.search(lowered):
        return resources().tokenizer.lcut(lowered, HMM=USE_HMM)
    # In chat a space or a line break next to a Chinese word ends a clause ("不用啦 我们跟货代
    # 合作很多年了"): it becomes one "\n" token, a clause break for the matcher. Between two
    # English words ("purchase order") a space is just dropped, so English phrases still match.
    tokens = resources().tokenizer.lcut(_CLAUSE_SPACE.sub("\n", lowered), HMM=USE_HMM)
    return [tok for tok in tokens if tok == "\n" or not tok.isspace()]


_CLAUSE_SPACE = re.compile(r"\s*\n\s*|(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])")


# ---------------------------------------------------------------------------- loading
def _load(data_dir: Path) -> Resources:
    started = time.perf_counter()
    lexicon = Lexicon.load(data_dir / "lexicon.toml")
    tokenizer, idf_base = _tokenizer_and_idf(data_dir, lexicon)
    user_words = segment.user_words(data_dir / "userdict.txt")
    idf = IdfTable.load(data_dir / "idf.txt", idf_base)
    _mute_signal_phrases(idf, lexicon, user_words)
    scripts, next_steps = _load_scripts(data_dir / "scripts.toml")
    tokenizer.lcut("预热一下分词器，价格多少？")   # first cut builds internal caches
    seconds = time.perf_counter() - started
    log.info("nlp warm-up done in %.2f s", seconds)
    return Resources(tokenizer, lexicon, idf, scripts, next_steps, seconds)


def _tokenizer_and_idf(data_dir: Path, lexicon: Lexicon):
    """The compact dictionary (nlp/segment.py: same cuts as jieba with HMM off, ~10 MB instead
    of ~160 MB); jieba's own tokenizer only when HMM is on or marisa-trie is missing."""
    if not USE_HMM:
        try:
            tokenizer, idf_base, median = segment.load(data_dir)
            return tokenizer, (idf_base, median)
        except ImportError as exc:
            log.warning("compact dictionary unavailable (%s): using jieba's, ~150 MB more", exc)
    return segment.jieba_tokenizer(data_dir, lexicon), segment.jieba_idf()


def _mute_signal_phrases(idf: IdfTable, lexicon: Lexicon, user_words: set[str]) -> None:
    """Signal phrases ("发我", "不需要了") are how people talk, not what they talk about: they
    never become keywords, unless the user dictionary or idf.txt lists them as trade terms.
    Competitor brands stay: they are what the conversation is about."""
    topics = lexicon.topic_words()
    for word in lexicon.segmentation_words():
        if word not in user_words and word not in idf.overrides and word not in topics:
            idf.overrides[word] = 0.0


def _load_scripts(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:           # people edit this file by hand
        raise ValueError(f"{path}: {exc}") from exc
    scripts = {k: str(v).strip() for k, v in raw.get("scripts", {}).items()}
    next_steps = {k: str(v).strip() for k, v in raw.get("next_step", {}).items()}
    return scripts, next_steps
