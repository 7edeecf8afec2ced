"""The canonical trade map (nlp/trades.py, nlp/data/trades.toml) and the CV folds built on it."""
from __future__ import annotations

import pytest

from nlp import trades, train
from nlp.metrics import load_rows

TRAINING_FILES = (train.CORPUS, train.DEV_SET, train.WRITTEN)


@pytest.mark.parametrize("path", TRAINING_FILES, ids=lambda p: p.name)
def test_every_trade_label_of_the_training_files_is_in_the_table(path):
    labels = {trades.label_of(r) for r in load_rows(path)}
    assert None not in labels, f"{path.name}: a chat without any trade label"
    unmapped = sorted(label for label in labels if trades.canonical_trade(label) is None)
    assert unmapped == [], f"add these to nlp/data/trades.toml: {unmapped}"


def test_canonical_trades_are_few_and_other_is_used_only_for_labels_listed_as_other():
    names = trades.canonical_names()
    assert 12 <= len(names) <= 20 and "other" in names
    # "other" only for labels written under it (whole or before "/"), never as a fallback
    assert trades.canonical_trade("quantum widgets") is None
    assert trades.canonical_trade("闲聊") == "other"


@pytest.mark.parametrize("label, canonical", [
    ("SaaS/ERP", "saas_it"), ("saas", "saas_it"), ("IT hardware", "saas_it"),
    ("medical devices", "medical"), ("medical_devices", "medical"), ("医疗器械", "medical"),
    ("教育培训", "education"), ("補習/高中數學", "education"), ("培训/少儿英语", "education"),
    ("保险", "insurance"), ("保險/儲蓄險", "insurance"), ("cross-border e-commerce", "retail_consumer"),
    ("汽車/中古車", "auto"), ("leasing/finance", "finance_leasing"), ("industrial", "industrial_parts"),
])
def test_free_form_labels_read_as_their_trade(label, canonical):
    assert trades.canonical_trade(label) == canonical


def test_a_canonical_name_reads_as_itself():
    # writers given the canonical list write e.g. "saas_it" or "building_home"
    for name in trades.canonical_names():
        assert trades.canonical_trade(name) == name
    assert trades.canonical_trade("chemicals_materials") == "industrial_parts"


def test_the_record_label_prefers_the_writers_own_then_the_trade_then_the_industry():
    assert trades.label_of({"trade": "handwritten", "trade_written": "保险"}) == "保险"
    assert trades.label_of({"trade": "logistics"}) == "logistics"
    assert trades.label_of({"trade": "handwritten", "industry": "b2b_equipment"}) == "b2b_equipment"
    assert trades.trade_of({"trade": "handwritten"}) == trades.UNMAPPED
    assert trades.trade_of({"trade_written": "quantum widgets"}) == "unmapped:quantum widgets"


def test_a_label_listed_under_two_trades_is_refused(tmp_path, monkeypatch):
    table = tmp_path / "trades.toml"
    table.write_text('[canonical]\na = ["x"]\nb = ["X"]\n', encoding="utf-8")
    monkeypatch.setattr(trades, "TABLE", table)
    trades._table.cache_clear()
    try:
        with pytest.raises(ValueError, match="listed under"):
            trades.canonical_trade("x")
    finally:
        trades._table.cache_clear()


def _chat(i, trade=None, written=None, writer=None):
    r = {"id": str(i), "text": "x", "intent": "low", "objections": [], "format": "plain"}
    if trade:
        r["trade"] = trade
    if written:
        r["trade_written"] = written
    if writer:
        r["writer"] = writer
    return r


def test_trade_folds_cross_generated_and_written_chats(monkeypatch):
    records = [_chat(0, trade="saas"), _chat(1, trade="handwritten", written="SaaS/CRM", writer="wa"),
               _chat(2, trade="insurance"), _chat(3, trade="handwritten", written="保险", writer="wb"),
               _chat(4, trade="handwritten", written="quantum widgets", writer="wb")]
    unmapped = train.prepare_cv(records)
    assert [r["trade_canonical"] for r in records] == ["saas_it", "saas_it", "insurance", "insurance",
                                                       "unmapped:quantum widgets"]
    assert unmapped == ["unmapped:quantum widgets"]
    assert [r["writer"] for r in records] == ["generator", "wa", "generator", "wb", "wb"]
    assert records[1]["trade"] == "handwritten"          # the fit's hand-written marker is kept

    fitted_on = []
    monkeypatch.setattr(train, "fit", lambda recs, feats: fitted_on.append(sorted(r["id"] for r in recs)) or None)
    monkeypatch.setattr(train, "_predict_with", lambda m, recs: [{"id": r["id"]} for r in recs])
    predicted = train.cross_validate(records, [None] * len(records), "trade")
    # one fit per canonical trade, each without that trade's chats, generated and written alike
    assert fitted_on == [["0", "1", "4"], ["2", "3", "4"], ["0", "1", "2", "3"]]
    assert [p["id"] for p in predicted] == ["0", "1", "2", "3", "4"]
    fitted_on.clear()
    train.cross_validate(records, [None] * len(records), "writer")
    assert fitted_on == [["1", "3", "4"], ["0", "2", "3", "4"], ["0", "1", "2"]]
