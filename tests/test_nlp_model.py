"""The generated corpus, the trained model's files and its serving path (issue 13, items 2-4)."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from nlp import engine, model
from nlp.analyze import analyze
from nlp.corpus import generate

DATA = Path(__file__).resolve().parents[1] / "nlp" / "data"


@pytest.fixture(scope="module", autouse=True)
def warm():
    engine.warm_up()


def test_corpus_in_the_repo_covers_trades_formats_styles_and_non_sales():
    rows = [json.loads(line) for line in (DATA / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 800 and len({r["text"] for r in rows}) == len(rows)
    assert len({r["trade"] for r in rows}) >= 10
    assert {r["format"] for r in rows} >= {"wechat", "colon", "telegram_forward", "forward_inline", "call_notes"}
    assert {r["style"] for r in rows} >= {"plain", "voice", "traditional", "mixed_en"}
    intents = Counter(r["intent"] for r in rows)
    assert intents["none"] >= 0.25 * len(rows) and all(intents[k] > 100 for k in ("high", "medium", "low"))
    assert all(not r["objections"] for r in rows if r["intent"] == "none")


def test_generator_is_reproducible_and_matches_the_file():
    assert generate(30) == generate(30)
    first = json.loads((DATA / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert generate(1)[0] == first


def test_shipped_model_loads_and_gives_probabilities():
    m = model.load()
    assert m is not None and len(m.vocab) > 1000
    result = analyze("小李：王总好，方案发您了\n王总：行，合同发我，这周把预付款打过去", rep_names=["小李"])
    assert result.level == "high" and result.score >= 65 and result.lexicon_score > 0
    out: list = []
    analyze("小李：王总好\n王总：价格太高了，我们再看看", rep_names=["小李"], _features_out=out)
    intent, objections = m.predict(out[0])
    assert abs(sum(intent.values()) - 1) < 1e-6 and set(objections) == set(m.obj_ids)


def test_model_off_is_the_lexicon_alone():
    text = "小李：王总好\n王总：听起来不错，能发个案例吗？"
    model.set_enabled(False)
    try:
        alone = analyze(text, rep_names=["小李"])
    finally:
        model.set_enabled(True)
    assert alone.score == alone.lexicon_score


def test_training_writes_files_the_server_loads(tmp_path):
    pytest.importorskip("sklearn")
    from nlp import train

    rows = generate(120)
    feats = train.features_for(rows)
    fitted = train.fit(rows, feats, calibrate=False)
    train.save(fitted, tmp_path)
    loaded = model.load(tmp_path)
    assert loaded is not None and loaded.vocab == fitted.vocab
    assert loaded.obj_ids == fitted.obj_ids and len(loaded.platt) == 3
    # the fitted model separates its own classes (a sanity check, not a held-out figure)
    p_high = [loaded.predict(f)[0]["high"] for f in feats]
    high = [p for p, r in zip(p_high, rows) if r["intent"] == "high"]
    rest = [p for p, r in zip(p_high, rows) if r["intent"] != "high"]
    assert sum(high) / len(high) > sum(rest) / len(rest)


def test_cv_figures_count_non_sales_called_high():
    from nlp.train import figures

    records = [{"intent": "none", "objections": []}, {"intent": "high", "objections": ["price"]},
               {"intent": "low", "objections": []}]
    predicted = [{"score": 80, "level": "high", "kind": "sales", "objections": set()},
                 {"score": 90, "level": "high", "kind": "sales", "objections": {"price"}},
                 {"score": 5, "level": "low", "kind": "sales", "objections": set()}]
    fig = figures(records, predicted)
    assert fig["non_sales_called_high"] == 1.0 and fig["objection_macro_f1"] == 1.0
    assert fig["accuracy_3class"] == round(2 / 3, 3)


def test_blend_is_a_bounded_correction_of_the_lexicon_and_score_bands_follow_it():
    m = model.load()
    from nlp.train import DELTAS
    assert 0 <= m.lam <= 1 and 0 <= m.delta <= max(DELTAS)   # on the trainer's grid
    sure = [{"high": 1.0, "medium": 0.0, "low": 0.0, "none": 0.0}, {"high": 0.0, "medium": 0.0, "low": 1.0, "none": 0.0}]
    for probs in sure:
        for lexicon in (0, 34, 35, 64, 65, 100):
            s = m.blended(probs, lexicon)
            assert abs(s - lexicon) <= m.delta + 1e-9
            score = model._to_score(m.p_high(s), s)
            level = model.level_of(s)
            assert (score >= 50) == (level == "high") and (score < 35) == (level == "low")


def test_objection_thresholds_are_chosen_per_id_by_writer_and_saved(tmp_path):
    pytest.importorskip("sklearn")
    from nlp import train

    rows = generate(120)
    for i, r in enumerate(rows[:60]):        # two hand-written "writers" among generated chats
        r["trade"], r["writer"] = "handwritten", "w1" if i % 2 else "w2"
    feats = train.features_for(rows)
    add, drop = train._choose_objection_thresholds(rows, feats)
    assert set(add) == set(drop) == set(train.OBJECTION_IDS)
    assert all(a in train.OBJ_ADD_GRID for a in add.values()) and all(d in train.OBJ_DROP_GRID for d in drop.values())
    assert train._choose_objection_thresholds(rows[60:], feats[60:]) == ({}, {})   # no hand-written writers
    fitted = train.fit(rows, feats, calibrate=False)
    fitted.obj_add, fitted.obj_drop = add, drop
    train.save(fitted, tmp_path)
    loaded = model.load(tmp_path)
    assert loaded.obj_add == add and loaded.obj_drop == drop
