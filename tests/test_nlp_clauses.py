"""Normalization, the one-line forward form, clause-level reading and "not a sales
conversation" answers (issue 13, items 1 and 5)."""
from __future__ import annotations

import os
import random

import pytest

from nlp import engine
from nlp.analyze import analyze
from nlp.normalize import normalize_text
from nlp.parse import parse_transcript


@pytest.fixture(scope="module", autouse=True)
def warm():
    engine.warm_up()


def run(*customer_lines: str):
    text = "小李：王总好，方案发您了\n" + "\n".join(f"王总：{line}" for line in customer_lines)
    return analyze(text, rep_names=["小李"])


def ids(result) -> set[str]:
    return {o.id for o in result.objections}


def test_normalize_traditional_width_and_repeats():
    assert normalize_text("我們老闆已經批了？？？") == "我们老板已经批了？"
    assert normalize_text("ＡＢＣ１２３，好的！！！") == "ABC123，好的！"
    assert normalize_text("👍👍👍") == "👍"
    assert normalize_text("") == ""


def test_traditional_refusal_reads_like_simplified():
    simplified = run("不需要了，我們不考慮", )
    assert run("不需要了，我们不考虑").level == simplified.level == "low"


def test_one_line_forward_form_names_the_customer():
    t = parse_transcript("[Forwarded from 王总] 报价单发我，这周签合同")
    assert t.format == "telegram_forward" and t.customer == "王总" and t.turns[0].role == "customer"
    assert t.turns[0].text == "报价单发我，这周签合同"
    many = parse_transcript("[Forwarded from 王总] 多少钱？\n[Forwarded from 小李] 1200一年\n[Forwarded from 王总] 合同发我",
                            rep_names=["小李"])
    assert [t.role for t in many.turns] == ["customer", "rep", "customer"]


def test_refusal_word_inside_arithmetic_is_no_refusal():
    assert run("我算了一下成本，还行，合同发我吧").level == "high"
    assert run("算了，不弄了").level == "low"


def test_suspended_and_past_plans_are_no_buying_signal():
    frozen = run("原来打算下个月签合同，现在项目冻结了")
    assert frozen.level == "low"
    assert any("暂停" in r.label for r in frozen.reasons)


def test_far_future_budget_is_timing_not_approval_given():
    later = run("预算下季度才批，到时候再说")
    assert later.level != "high" and "timing" in ids(later)


def test_approval_already_given_is_not_the_approval_objection():
    given = run("我们老板已经批了，合同发我吧")
    assert "need_approval" not in ids(given) and given.level == "high"
    assert "need_approval" in ids(run("价格可以，但要老板同意才行"))


def test_own_other_suppliers_are_no_named_competitor():
    result = run("你们的价格比我们其他供应商贵不少")
    assert "competitor" not in ids(result) and "price" in ids(result)


@pytest.mark.parametrize("said, ruled", [
    ("你们的价格比我们其他供应商贵不少", "competitor"),      # a price remark, no competitor
    ("之前用过别家的 半年就裂了", "competitor"),             # a bad experience: trust, no rival
])
def test_an_objection_a_reader_re_reads_away_is_ruled_out_for_the_heads(said, ruled):
    """The clause reader's "no such objection" reaches the merge: the model's heads may add an
    objection the lexicon missed, not one it read and ruled out in that turn (as they may not bring back a
    settled one)."""
    import importlib

    from nlp import clauses

    analysis = importlib.import_module("nlp.analyze")

    lexicon = engine.resources().lexicon
    tokens = engine.cut(said)
    hits = lexicon.find(tokens) + lexicon.find_patterns(tokens)
    assert ruled in {h.entry.id for h in hits}            # the word is there …
    out: set[str] = set()
    kept = clauses.refine(tokens, sorted(hits, key=lambda h: h.start), lexicon, out)
    assert ruled not in {h.entry.id for h in kept} and ruled in out   # … and re-read away
    views = analysis._segment(parse_transcript("小李：方案发您了\n王总：" + said, ["小李"]), lexicon)
    assert [v.ruled_out for v in views if v.turn.role == "customer"] == [frozenset([ruled])]


def test_a_rival_named_in_another_turn_still_counts():
    """The veto is the re-read turn's: a later turn naming a rival the lexicon does not know is
    still the model's to add (review of session 25)."""
    assert "competitor" not in ids(run("你们的价格比我们其他供应商贵不少"))
    later = run("你们的价格比我们其他供应商贵不少", "我们现在在跟华拓科技谈，他们报价低两成，功能也差不多")
    assert {"competitor", "price"} <= ids(later)


def test_only_the_competitor_readers_no_binds_the_heads():
    """An approval given since ("上次说要董事会批，昨天已经过了") is dropped by the lexicon, but the
    heads may still find one (the approval reader's drops cost need_approval F1 when binding)."""
    from nlp import clauses

    lexicon = engine.resources().lexicon
    tokens = engine.cut("上次说要董事会批，昨天已经过了")
    out: set[str] = set()
    kept = clauses.refine(tokens, lexicon.find(tokens), lexicon, out)
    assert "need_approval" not in {h.entry.id for h in kept} and not out


def test_after_sales_complaint_is_not_interest():
    result = run("为什么还没发货？都一周了", "订单号发你了，今天必须给我答复")
    assert result.kind == "complaint" and result.level == "low" and result.score <= 10
    assert "售后" in result.note and not result.objections


@pytest.mark.parametrize("text,kind", [
    ("小李：您好\n张三：你好，请问你们还招销售吗？我想投个简历，待遇怎么样", "job"),
    ("小李：您好\n某人：兼职刷单日赚500，加我微信了解", "spam"),
    ("小李：周末去哪玩了\n阿明：去爬山了，天气真好，下次一起", "chitchat"),
])
def test_not_sales_kinds(text, kind):
    result = analyze(text, rep_names=["小李"])
    assert result.kind == kind and result.level == "low" and result.note


@pytest.mark.parametrize("text", ["", "   \n ", "😀😀🎉", "https://example.com/x", "[图片][语音]"])
def test_empty_and_emoji_only_are_not_a_conversation(text):
    result = analyze(text)
    assert not result.is_conversation and result.kind == "junk" and result.note


def test_binary_junk_is_not_a_conversation():
    junk = os.urandom(4000).decode("latin-1")
    assert not analyze(junk).is_conversation
    replaced = random.Random(1).randbytes(4000).decode("utf-8", errors="replace")
    assert not analyze(replaced).is_conversation


def test_single_guessed_speaker_is_never_high():
    result = analyze("王总：报价单发我，这周签合同，付款分两期，下周交货")
    assert result.kind == "one_sided" and result.level != "high" and result.note


def test_two_hundred_speakers_and_200k_chars_answer():
    lines = [f"人{i}：报价多少？我们这周想签合同" for i in range(200)]
    many = analyze("\n".join(lines))
    assert many.is_conversation and len(many.speakers) == 200
    big = analyze(("王总：价格多少？\n小李：1200一年\n") * 12_000, rep_names=["小李"])
    assert big.is_conversation and 0 <= big.score <= 100


def test_a_sentence_is_quoted_once():
    result = run("合同发我，合同发我，合同发我")
    quotes = [r.quote for r in result.reasons if r.quote]
    assert len(quotes) == len(set(quotes))
