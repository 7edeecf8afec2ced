"""Shared NLP resources, loaded once: a jieba tokenizer with the sales user dictionary, the
lexicon matcher, the keyword IDF table and the default scripts.

jieba loads its 5 MB dictionary lazily on the first cut (~0.6 s) and `import jieba.analyse`
costs another ~0.5 s, so the bot calls `warm_up()` at start-up, in a worker thread
(`await asyncio.to_thread(nlp.engine.warm_up)`), before the first paste. `warm_up()` is
thread-safe and idempotent; `analyze()` calls it too, so forgetting it only costs latency.

We own a `jieba.Tokenizer()` instead of using the global `jieba.dt`: adding our words to the
global one would change segmentation for any other code in the process. After warm-up the
tokenizer is only read, which jieba supports from several threads.
"""
from __future__ import annotations

import logging
import re
import threading
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from nlp.keywords import IdfTable
from nlp.lexicon import Lexicon

DATA_DIR = Path(__file__).parent / "data"

log = logging.getLogger(__name__)

_WHITESPACE = re.compile(r"\s")

# See cut(): segmentation without jieba's HMM new-word discovery.
USE_HMM = False


@dataclass(frozen=True)
class Resources:
    tokenizer: object            # jieba.Tokenizer
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
    import jieba

    jieba.setLogLevel(logging.WARNING)       # jieba logs "Building prefix dict…" at DEBUG
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    user_words = _load_user_dict(tokenizer, data_dir / "userdict.txt")
    lexicon = Lexicon.load(data_dir / "lexicon.toml")
    for word in lexicon.segmentation_words():
        # Only raises a word's frequency as far as needed to keep it whole on its own;
        # ordinary context still wins ("不需要了解" stays 不需要/了解, not 不需要了/解).
        tokenizer.add_word(word)
    idf = IdfTable.load(data_dir / "idf.txt", _jieba_idf())
    _mute_signal_phrases(idf, lexicon, user_words)
    scripts, next_steps = _load_scripts(data_dir / "scripts.toml")
    tokenizer.lcut("预热一下分词器，价格多少？")   # first cut builds internal caches
    seconds = time.perf_counter() - started
    log.info("nlp warm-up done in %.2f s", seconds)
    return Resources(tokenizer, lexicon, idf, scripts, next_steps, seconds)


def _load_user_dict(tokenizer, path: Path) -> set[str]:
    """jieba's own load_userdict has no comments; ours allows `#` lines for editors."""
    words = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        word = parts[0]
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        tag = parts[-1] if len(parts) > 1 and not parts[-1].isdigit() else None
        tokenizer.add_word(word, freq, tag)
        if word.lower() != word:
            tokenizer.add_word(word.lower(), freq, tag)   # we cut lower-cased text
        words.add(word.lower())
    return words


def _mute_signal_phrases(idf: IdfTable, lexicon: Lexicon, user_words: set[str]) -> None:
    """Signal phrases ("发我", "不需要了") are how people talk, not what they talk about: they
    never become keywords, unless the user dictionary or idf.txt lists them as trade terms.
    Competitor brands stay: they are what the conversation is about."""
    topics = lexicon.topic_words()
    for word in lexicon.segmentation_words():
        if word not in user_words and word not in idf.overrides and word not in topics:
            idf.overrides[word] = 0.0


def _jieba_idf() -> tuple[dict[str, float], float]:
    """jieba.analyse's IDF table (loaded by importing it) is our fallback for generic words."""
    import jieba.analyse

    default = jieba.analyse.default_tfidf
    return default.idf_freq, default.median_idf


def _load_scripts(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:           # people edit this file by hand
        raise ValueError(f"{path}: {exc}") from exc
    scripts = {k: str(v).strip() for k, v in raw.get("scripts", {}).items()}
    next_steps = {k: str(v).strip() for k, v in raw.get("next_step", {}).items()}
    return scripts, next_steps
