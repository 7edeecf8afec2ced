"""The labeled development set and the evaluation figures it must reach."""
import json
from collections import Counter
from pathlib import Path

import pytest

from nlp import eval as nlp_eval
from nlp.lexicon import OBJECTION_IDS

DEV = Path(__file__).resolve().parent / "data" / "nlp_dev.jsonl"
FORMATS = {"wechat", "colon", "telegram_forward", "call_notes"}


@pytest.fixture(scope="module")
def rows():
    return [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def figures():
    return nlp_eval.evaluate(DEV)


def test_dev_set_shape(rows):
    assert len(rows) >= 80
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert r["format"] in FORMATS and r["intent"] in ("high", "medium", "low")
        assert set(r["objections"]) <= set(OBJECTION_IDS) and r["text"].strip()
        assert r["rep"] is None or r["rep"] in r["text"]
    assert {r["format"] for r in rows} == FORMATS
    assert min(Counter(r["intent"] for r in rows).values()) >= 20
    per_objection = Counter(o for r in rows for o in r["objections"])
    assert all(per_objection[o] >= 8 for o in OBJECTION_IDS)


def test_dev_set_thresholds(figures):
    assert figures["intent_auc_high"] >= 0.9
    assert figures["intent_accuracy"] >= 0.8
    assert figures["objection_macro_f1"] >= 0.85
    assert figures["low_scored_high"] == 0


def test_main_prints_one_figure_a_line(capsys):
    assert nlp_eval.main([str(DEV)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    names = [line.split(": ", 1)[0] for line in lines]
    for required in ("intent_auc_high", "intent_accuracy", "intent_precision_high", "intent_recall_low",
                     "objection_macro_f1", "objection_f1_price", "low_scored_high"):
        assert required in names
    assert all(": " in line for line in lines)


def test_main_reports_bad_input(tmp_path, capsys):
    assert nlp_eval.main([str(tmp_path / "missing.jsonl")]) == 2
    broken = tmp_path / "broken.jsonl"
    broken.write_text("{not json\n", encoding="utf-8")
    assert nlp_eval.main([str(broken)]) == 2
    assert nlp_eval.main([]) == 2


def test_any_file_with_the_schema_works(tmp_path):
    other = tmp_path / "other.jsonl"
    other.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"id": "a", "format": "colon", "rep": "小李", "customer": "王总", "intent": "high", "objections": [],
         "text": "王总：合同发我，这周付款\n小李：好的", "extra": 1},
        {"id": "b", "format": "colon", "rep": "小李", "customer": "王总", "intent": "low",
         "objections": ["no_need"], "text": "小李：有优惠\n王总：不需要了"},
    ]), encoding="utf-8")
    figures = nlp_eval.evaluate(other)
    assert figures["n"] == 2 and figures["intent_auc_high"] == 1.0 and figures["low_scored_high"] == 0


def test_auc_counts_ties_as_half():
    assert nlp_eval.auc([3, 2, 1], [True, False, False]) == 1.0
    assert nlp_eval.auc([1, 1], [True, False]) == 0.5
