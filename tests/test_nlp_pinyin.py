"""Pinyin typed instead of Hanzi is read (issue 13: "text the pipeline does not read"), and the
objection/complaint classes the clause reader fixes."""
from __future__ import annotations

import pytest

from nlp import engine, model
from nlp.analyze import analyze
from nlp.pinyin import syllables, to_hanzi


@pytest.fixture(scope="module", autouse=True)
def warm():
    engine.warm_up()


def run(*customer_lines: str, with_model: bool = False):
    text = "小李：王总好，方案和报价发您了\n" + "\n".join(f"王总：{line}" for line in customer_lines)
    model.set_enabled(with_model)
    try:
        return analyze(text, rep_names=["小李"])
    finally:
        model.set_enabled(True)


def test_pinyin_runs_become_hanzi():
    assert to_hanzi("hao de") == "好的"
    assert to_hanzi("xie xie") == "谢谢"
    assert to_hanzi("tai gui le") == "太贵了"
    assert to_hanzi("bu xu yao") == "不需要"
    assert to_hanzi("ming tian qian he tong") == "明天签合同"
    assert to_hanzi("xiexie, ming tian qian he tong ba") == "谢谢, 明天签合同吧"
    assert syllables("xiexie") == ["xie", "xie"] and syllables("hello") is None


def test_english_names_and_codes_stay():
    for text in ("please send the quote", "we are ok", "Tony Wu", "Hao Ran", "CRM ERP", "PO will be issued",
                 "hello change", "a"):
        assert to_hanzi(text) == text


def test_pinyin_chat_reads_like_hanzi():
    assert {o.id for o in run("tai gui le, bu xu yao").objections} == {"price", "no_need"}
    assert run("tai gui le, bu xu yao").level == run("太贵了，不需要").level == "low"
    assert run("hao de, ming tian qian he tong").level == run("好的，明天签合同").level


def test_comparison_with_own_suppliers_and_future_cooperation_are_no_has_supplier():
    assert {o.id for o in run("你们比我们现在合作的几个供应商都贵一些").objections} == {"price"}
    assert "has_supplier" not in {o.id for o in run("第一批先来20台试试，没问题后面长期合作").objections}
    assert "has_supplier" in {o.id for o in run("目前有供货商了，合作好多年了").objections}


def test_a_vendor_nobody_listed_is_a_competitor_but_the_boss_is_not():
    assert "competitor" in {o.id for o in run("瑞丰那边给的条件比你们好").objections}
    assert "competitor" in {o.id for o in run("我们也在看恒达的方案").objections}
    assert "competitor" not in {o.id for o in run("老板那边给的意见是再等等").objections}
    assert "competitor" not in {o.id for o in run("你们那边给的条件还可以").objections}


def test_anger_is_a_complaint_never_high():
    for with_model in (False, True):
        result = run("你们这什么破系统，天天登录不上，怎么回事？", "赶紧处理，给我个说法，下周合同到期再说",
                     with_model=with_model)
        assert result.kind == "complaint" and result.level != "high"
