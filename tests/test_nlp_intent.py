"""Intent score, reasons, objections and scripts: negation, hedges, refusal priority,
who said what, noisy pastes, speed, and the engine's warm-up."""
import re
import threading
import time
import tomllib
from datetime import datetime
from pathlib import Path

import pytest

from nlp import engine
from nlp.analyze import analyze
from nlp.lexicon import OBJECTION_IDS

NOW = datetime(2024, 3, 8, 12, 0)
DATA = Path(__file__).resolve().parents[1] / "nlp" / "data"


@pytest.fixture(scope="module", autouse=True)
def warm():
    """These tests pin the lexicon's rules (its score, levels and quotes) with the trained
    model off; the blend with the model is tested in test_nlp_model.py."""
    from nlp import model

    engine.warm_up()
    model.set_enabled(False)
    yield
    model.set_enabled(True)


def chat(*lines: str, rep: str = "小李", customer: str = "王总") -> str:
    """Colon-format chat; lines starting with '>' are the rep's."""
    return "\n".join(f"{rep}：{l[1:]}" if l.startswith(">") else f"{customer}：{l}" for l in lines)


def run(*lines: str, **kw):
    return analyze(chat(*lines), rep_names=["小李"], now=NOW, **kw)


def objection_ids(result) -> set[str]:
    return {o.id for o in result.objections}


# ----------------------------------------------------------------------- negation
@pytest.mark.parametrize("said", ["价格不贵", "一点也不贵", "没那么贵", "价格不算贵，挺合理", "价格不高"])
def test_negated_price_complaint_is_not_an_objection(said):
    assert "price" not in objection_ids(run(">报价发您了", said, ">好的"))


@pytest.mark.parametrize("said", ["太贵了", "价格有点高", "报价比上次高这么多", "能不能便宜点", "too expensive for us"])
def test_price_complaints_are_objections(said):
    assert "price" in objection_ids(run(">报价发您了", said))


def test_no_problem_is_agreement_not_a_problem():
    result = run(">合同条款您看一下", "没问题，可以签")
    assert not result.objections
    assert result.level == "high"


def test_your_company_is_not_expensive():
    assert "price" not in objection_ids(run("贵公司的方案我们看了，想约个时间详聊"))


def test_negated_need_is_no_need_and_a_b_question_is_not_negation():
    assert "no_need" in objection_ids(run(">您这边有需求吗？", "我们没有这方面的需求"))
    result = run("预算批不批我说了不算，要问老板")
    assert "need_approval" in objection_ids(result)


def test_hypothetical_complaint_is_ignored():
    result = run("我们现在用简道云，如果不满意会考虑换")
    assert all(r.label != "负面评价" for r in result.reasons)


# ------------------------------------------------------------------------- hedges
def test_hedge_lowers_the_score_and_ending_on_it_is_never_high():
    keen = run(">方案发您了", "报价单发我，我们想这个月签合同，付款可以分期吗")
    hedged = run(">方案发您了", "报价单发我，我们想这个月签合同，付款可以分期吗", ">好的", "我再考虑一下")
    assert hedged.score < keen.score
    assert keen.level == "high" and hedged.level != "high"


@pytest.mark.parametrize("said", ["再看看吧", "考虑一下", "回头再说", "我们研究研究"])
def test_hedges_alone_are_not_interest(said):
    assert run(">方案发您了，您看看", said).level != "high"


# ----------------------------------------------------------------- refusal priority
@pytest.mark.parametrize("refusal", ["不需要了，谢谢", "暂时不考虑", "有需要再联系", "不感兴趣", "不用了",
                                     "已经跟金蝶签了", "不用。"])
def test_refusal_wins_over_earlier_interest(refusal):
    result = run("你们多少钱？有试用吗？", ">有的，可以免费试用30天，现在还有优惠", refusal)
    assert result.level == "low"
    assert result.score <= 20
    assert any("拒绝" in r.label or "别家" in r.label for r in result.reasons)


def test_buying_after_a_refusal_lifts_the_cap():
    result = run("不需要了", ">我们下个月涨价，现在签可以锁定价格", "我们老板说还是要上，合同发我，这周付款")
    assert result.score > 15 and result.level != "low"


# ---------------------------------------------------------- who said what matters
def test_rep_offers_and_anticipated_objections_never_count():
    cold = run(">王总，我们有优惠，免费试用，还送培训！", ">您是不是觉得太贵？我们可以打折，别家没这个价",
               "嗯")
    assert not cold.objections
    assert cold.level == "low"
    assert all("优惠" not in r.phrase and "免费" not in r.phrase for r in cold.reasons)


def test_rep_words_do_not_change_the_score():
    plain = run("这个怎么收费？", ">1200一年", "好的，我考虑一下")
    pushy = run("这个怎么收费？", ">1200一年，现在有优惠，免费送实施，合同今天就能签，您是不是担心价格？",
                "好的，我考虑一下")
    assert plain.score == pushy.score


def test_call_notes_rep_offer_does_not_count():
    result = analyze("拜访李经理。我介绍了我们的优惠政策，首年免费培训。对方表示没有必要上系统，有需要再联系。",
                     now=NOW)
    assert result.level == "low" and "no_need" in objection_ids(result)


# ------------------------------------------------------------- reasons & objections
def test_reasons_quote_the_customer():
    result = run("你好，你们这个系统一年多少钱？", ">标准版1200一年", "价格有点高，不过可以先试用吗？",
                 ">可以的", "那先开个测试账号，没问题的话月底前签合同")
    assert 3 <= len(result.reasons) <= 5
    customer_text = chat("你好，你们这个系统一年多少钱？", "价格有点高，不过可以先试用吗？",
                         "那先开个测试账号，没问题的话月底前签合同")
    for reason in result.reasons:
        assert len(reason.quote) <= 60
        if reason.quote:
            assert reason.quote.strip("…") in customer_text
    assert any(r.effect > 0 for r in result.reasons)


@pytest.mark.parametrize("said,expected", [
    ("太贵了", "price"), ("今年没有预算", "budget"), ("我们有固定的供应商", "has_supplier"),
    ("这个我得问问老板", "need_approval"), ("现在不着急，明年再说", "timing"),
    ("你们靠谱吗？有没有案例", "trust_quality"), ("用友报价比你们低", "competitor"),
    ("我们用不上这个", "no_need"), ("纷享销客也在谈", "competitor"), ("销售易", "competitor"),
    ("Salesforce quoted us lower", "competitor"), ("金蝶那边便宜", "competitor"),
])
def test_each_objection_category(said, expected):
    assert expected in objection_ids(run(">您好，方案看了吗？", said))


def test_scripts_come_from_the_team_then_from_defaults():
    result = run("太贵了，而且要问老板")
    by_id = {o.id: o for o in result.objections}
    assert by_id["price"].script and by_id["need_approval"].script
    custom = run("太贵了，而且要问老板", scripts={"price": "团队话术：先问预算范围"})
    by_id = {o.id: o for o in custom.objections}
    assert by_id["price"].script == "团队话术：先问预算范围"
    assert by_id["need_approval"].script        # falls back to the shipped default
    assert by_id["price"].label_zh and by_id["price"].label_en and by_id["price"].quote


def test_default_scripts_cover_every_objection():
    with open(DATA / "scripts.toml", "rb") as fh:
        scripts = tomllib.load(fh)["scripts"]
    assert set(OBJECTION_IDS) <= set(scripts)


# ------------------------------------------------------------------- noisy input
def test_emoji_links_placeholders_and_english():
    text = ("王总 2024/3/5 20:10\n[图片]\n王总 2024/3/5 20:11\n方案收到👍 https://example.com/a?b=1 "
            "price OK, 合同发我\n小李 2024/3/5 20:12\n好的[微笑]\n王总 2024/3/5 20:30\n[语音] 12\"")
    result = analyze(text, rep_names=["小李"], now=NOW)
    assert result.is_conversation and result.level == "high"
    assert not any(k in ("图片", "语音", "https", "example") for k in result.keywords)
    assert all("http" not in r.quote for r in result.reasons)
    assert result.reply_hours == [20, 20, 20]


@pytest.mark.parametrize("text", ["", "   ", "🙂🙂🙂", "[图片]", "https://example.com/x", "???", "123 456"])
def test_garbage_is_not_a_conversation(text):
    result = analyze(text, now=NOW)
    assert not result.is_conversation and result.reasons == [] and result.objections == []


def test_keywords_include_user_dictionary_terms():
    result = run("我们想上CRM，要能对接企业微信会话存档", ">可以", "纷享销客也在谈，你们私有化部署多少钱")
    assert {"企业微信", "纷享销客"} & set(result.keywords) or "私有化部署" in result.keywords


def test_twenty_thousand_character_paste_is_fast_and_sane():
    block = ("王总 2024/3/5 10:{m:02d}\n你好，这个设备多少钱？交期多久？我们有点着急\n"
             "小李 2024/3/5 10:{m:02d}\n您好，含税12万，现货一周到厂，现在有优惠\n")
    text = "".join(block.format(m=i % 60) for i in range(250))
    assert len(text) >= 20_000
    started = time.perf_counter()
    result = analyze(text, rep_names=["小李"], now=NOW)
    assert time.perf_counter() - started < 2.0
    assert result.is_conversation and result.turns == 500 and result.customer_turns == 250
    assert 0 <= result.score <= 100 and 3 <= len(result.reasons) <= 5


# ---------------------------------------------------------------------- lexicon
def test_lexicon_lists_phrases_not_sentences():
    with open(DATA / "lexicon.toml", "rb") as fh:
        lexicon = tomllib.load(fh)
    terms = [t for section in ("signal", "objection") for item in lexicon[section]
             for t in item.get("terms", []) + item.get("standalone", [])]
    cjk = [t for t in terms if re.search(r"[\u4e00-\u9fff]", t)]
    assert cjk and max(len(t) for t in cjk) <= 8
    assert not any(re.search(r"[，。！？,!?]", t) for t in terms)


def test_a_broken_lexicon_edit_names_the_file(tmp_path):
    from nlp.lexicon import Lexicon
    broken = tmp_path / "lexicon.toml"
    broken.write_text((DATA / "lexicon.toml").read_text(encoding="utf-8") + "\n[[signal]\nid = ",
                      encoding="utf-8")
    with pytest.raises(ValueError, match="lexicon.toml"):
        Lexicon.load(broken)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('[[signal]]\nid = "x"\nnegated = "nope"\nterms = ["好"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="nope"):
        Lexicon.load(unknown)


# ----------------------------------------------------------------------- engine
def test_warm_up_is_idempotent_and_thread_safe():
    results = []
    threads = [threading.Thread(target=lambda: results.append(engine.warm_up())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert engine.is_ready()
    assert len({id(r) for r in results}) == 1


def test_analysis_is_thread_safe():
    text = chat("多少钱？能试用吗？", ">可以", "有点贵，我问问老板，下周给你答复")
    expected = analyze(text, rep_names=["小李"], now=NOW)
    seen = []

    def work():
        for _ in range(20):
            seen.append(analyze(text, rep_names=["小李"], now=NOW))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == expected for r in seen)
