"""The compact dictionary (nlp/segment.py) cuts exactly as jieba's Tokenizer set up the same way."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from nlp import engine, segment
from nlp.data import __file__ as data_init

DATA_DIR = engine.DATA_DIR
ROOT = segment.ROOT

EDGE_CASES = [
    "",
    "价格多少？",
    "不需要了解，我们已经用金蝶了",
    "ABC公司的iPhone15 Pro报价单发我 abc-123_x.y 50% C++ C#",
    "第一行\r\n第二行\n\n  第三行\t结束",
    "王总 2024/3/5 10:21\n你好，多少钱？👍👍 [图片] https://example.com/case?a=1&b=2",
    "ｆｕｌｌ　ｗｉｄｔｈ１２３，混合English words和中文",
    "丨乂亅〇々〆𠀀𪚥 ぁアカ 한국어",
    "啊" * 50 + "的的的" + "a1" * 20,
]


@pytest.fixture(scope="module")
def jieba_tok():
    return segment.jieba_tokenizer(DATA_DIR)


@pytest.fixture(scope="module")
def compact():
    return engine.resources().tokenizer


def _corpus_texts(limit: int = 400) -> list[str]:
    texts = []
    with open(DATA_DIR / "corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            item = json.loads(line)
            texts.append(str(item.get("text") or json.dumps(item, ensure_ascii=False)))
            if len(texts) >= limit:
                break
    return texts


def test_bot_tokenizer_is_the_compact_one(compact):
    assert isinstance(compact, segment.CompactTokenizer)
    assert compact.words > 300_000           # jieba's whole dictionary, not a trimmed one


@pytest.mark.parametrize("text", EDGE_CASES)
def test_same_tokens_as_jieba_on_edge_cases(text, jieba_tok, compact):
    for variant in (text, text.lower()):
        assert compact.lcut(variant) == jieba_tok.lcut(variant, HMM=False)


def test_same_tokens_as_jieba_on_the_corpus(jieba_tok, compact):
    texts = _corpus_texts()
    assert len(texts) >= 100
    diffs = [t for t in texts if compact.lcut(t.lower()) != jieba_tok.lcut(t.lower(), HMM=False)]
    assert diffs == []


def test_user_and_lexicon_words_stay_whole(jieba_tok, compact):
    words = [w for w, _, _ in segment.read_user_dict(DATA_DIR / "userdict.txt")][:50]
    words += list(engine.resources().lexicon.segmentation_words())[:50]
    for word in words:
        text = f"我们{word.lower()}吧"
        assert compact.lcut(text) == jieba_tok.lcut(text, HMM=False)


def test_idf_table_is_jiebas():
    import jieba.analyse

    table, median = jieba.analyse.default_tfidf.idf_freq, jieba.analyse.default_tfidf.median_idf
    idf = engine.resources().idf
    assert idf.median == median
    sample = list(table.items())[::97]
    assert all(idf.base.get(word) == value for word, value in sample)
    assert idf.base.get("这不是一个词语吗", None) is None


def test_hmm_is_refused(compact):
    with pytest.raises(ValueError):
        compact.lcut("价格", HMM=True)


def test_cache_follows_the_user_dictionary(tmp_path, monkeypatch):
    """A word added to userdict.txt is a new cache key: the rebuilt dictionary keeps it whole."""
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data, ignore=shutil.ignore_patterns("corpus.jsonl", "model.*"))
    monkeypatch.setenv("SALESBOT_CACHE_DIR", str(tmp_path / "cache"))
    word = "蓝鲸云仓宝"
    before, _, _ = segment.load(data)
    assert word not in before.lcut(f"我们用{word}管理")
    with open(data / "userdict.txt", "a", encoding="utf-8") as fh:
        fh.write(f"\n{word} 5 nz\n")
    after, _, _ = segment.load(data)
    assert word in after.lcut(f"我们用{word}管理")
    assert len(list((tmp_path / "cache").iterdir())) == 2
    reference = segment.jieba_tokenizer(data)
    text = f"我们用{word}管理仓库，价格不需要了解"
    assert after.lcut(text) == reference.lcut(text, HMM=False)


def test_warm_up_keeps_jieba_out_of_the_process():
    """What the memory saving rests on: the bot process never builds jieba's dicts itself."""
    code = ("import sys; from nlp import engine, analyze; engine.warm_up(); "
            "analyze('客户：多少钱？\\n我：1200', rep_names=['我']); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'jieba'))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_unwritable_cache_dir_falls_back_to_the_temp_dir(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("SALESBOT_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.setattr(segment.tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    tokenizer, idf, _ = segment.load(DATA_DIR)
    assert tokenizer.lcut("价格多少") == engine.resources().tokenizer.lcut("价格多少")
    assert len(idf) > 200_000
    assert list((tmp_path / "tmp").glob("salesbot-*/dict-*/meta.json"))


def test_old_builds_are_pruned(tmp_path):
    for i in range(segment.KEEP_BUILDS + 2):
        (tmp_path / f"dict-{i}").mkdir()
        (tmp_path / f"dict-{i}" / "meta.json").write_text("{}")
        os.utime(tmp_path / f"dict-{i}" / "meta.json", (1000 + i, 1000 + i))
    segment._prune(tmp_path, keep=segment.KEEP_BUILDS)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(f"dict-{i}" for i in range(2, segment.KEEP_BUILDS + 2))
