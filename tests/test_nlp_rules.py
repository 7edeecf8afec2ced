"""The general (family) rules added so that the reader generalizes beyond its dev set:
comparisons, price words inside a complaint, scheduling vs. delaying, partial "no need",
vendors kept vs. left, renewals refused, integrations and carriers vs. competitors, spaces as
clause breaks, reported speech in call notes, the engaged floor, regex patterns — and
keywords taken from the customer's words only."""
from datetime import datetime

import pytest

from nlp import engine
from nlp.analyze import analyze
from nlp.parse import ROLE_CUSTOMER, ROLE_REP, parse_transcript

NOW = datetime(2024, 3, 8, 12, 0)


@pytest.fixture(scope="module", autouse=True)
def warm():
    """These tests pin the lexicon's rules (its score, levels and quotes) with the trained
    model off; the blend with the model is tested in test_nlp_model.py."""
    from nlp import model

    engine.warm_up()
    model.set_enabled(False)
    yield
    model.set_enabled(True)


def run(*lines: str):
    """Colon chat; lines starting with '>' are the rep's (小李), the others the customer's (王总)."""
    text = "\n".join(f"小李：{l[1:]}" if l.startswith(">") else f"王总：{l}" for l in lines)
    return analyze(text, rep_names=["小李"], now=NOW)


def ids(result) -> set[str]:
    return {o.id for o in result.objections}


# ---------------------------------------------------------------------- keywords
def test_keywords_come_from_the_customer_only():
    result = run(">王总，现在有优惠活动，免费试用三十天，免费上门安装，优惠力度很大",
                 "你们这个MES能跟车间的排产打通吗？",
                 ">可以的，还有免费培训和优惠")
    assert result.keywords
    for rep_word in ("优惠", "免费", "活动", "培训", "试用", "力度"):
        assert not any(rep_word in k for k in result.keywords), result.keywords
    assert "排产" in result.keywords or "车间" in result.keywords or "mes" in result.keywords


def test_keywords_of_a_rep_only_paste_are_empty():
    assert analyze("小李：王总在吗？现在有优惠，免费送货", rep_names=["小李"], now=NOW).keywords == []


def test_competitor_brands_stay_keywords():
    assert "迈瑞" in run("我们一直用迈瑞的监护仪，售后也方便").keywords


# ------------------------------------------------------------------- comparisons
@pytest.mark.parametrize("said", ["你们比别家贵了一截", "报价比我们现在用的高15%", "别家比你们便宜差不多10%",
                                  "你们价格比西门子的也没便宜多少啊", "隔壁厂给我报的每吨便宜八百"])
def test_comparisons_that_complain_about_price(said):
    assert "price" in ids(run(said))


@pytest.mark.parametrize("said", ["你们比别家便宜不少", "比上次的报价低，可以", "别家比你们贵"])
def test_comparisons_in_our_favour_are_not_price_objections(said):
    assert "price" not in ids(run(said))


def test_price_words_inside_a_complaint_are_not_a_price_request():
    result = run("你们这个报价太离谱了")
    assert "price" in ids(result)
    assert not any(r.label in ("要报价", "问价格") for r in result.reasons)


@pytest.mark.parametrize("said", ["price再让一点，今天就能下PO", "年费能不能打个折", "性价比一般般，不太值"])
def test_price_family_variants(said):
    assert "price" in ids(run(said))


# ----------------------------------------------------------------- timing / need
def test_a_clock_time_is_scheduling_not_delaying():
    assert "timing" not in ids(run("周四上午不行，下午两点以后吧"))
    assert "timing" in ids(run("现在太忙了，以后吧"))


@pytest.mark.parametrize("said", ["那也得等年后了", "可能要明年才能落地", "那就等Q2吧", "现在年底事多，过完年再说"])
def test_waiting_for_a_later_time(said):
    assert "timing" in ids(run(said))


def test_part_of_a_product_unused_is_not_no_need():
    assert "no_need" not in ids(run("功能一半我们用不到，性价比不高"))
    assert "no_need" in ids(run("我们用不到这个"))


# ------------------------------------------------------------- vendors / brands
def test_a_vendor_kept_is_not_no_need():
    # the vendor they use and are happy with is has_supplier (issue 13: no comparison, no competitor)
    result = run("我们一直用迈瑞的，暂时没有换的打算")
    assert "has_supplier" in ids(result) and not {"no_need", "competitor"} & ids(result)


def test_the_incumbent_weighed_against_us_is_a_competitor():
    assert "competitor" in ids(run("我们一直用迈瑞的，迈瑞比你们便宜两成"))


def test_replacing_a_part_is_still_no_need():
    assert ids(run("设备都是新换的，一两年内都不需要换轴承")) == {"no_need"}


@pytest.mark.parametrize("said", ["我们之前在用销售易，续费太贵了", "报价比我们现在用的高15%"])
def test_past_or_compared_product_is_not_a_current_vendor(said):
    assert "has_supplier" not in ids(run(said))


def test_integration_and_shipping_are_not_competitors():
    assert "competitor" not in ids(run("你们的WMS能跟金蝶对接吗？"))
    assert "competitor" not in ids(run("货能发顺丰吗？"))
    result = ids(run("我们物流一直用顺丰，挺稳定"))     # the carrier they use and like: their supplier
    assert "has_supplier" in result and "competitor" not in result


def test_not_renewing_our_product_is_a_refusal():
    result = run(">许总，企业培训年卡现在续费送两门课", "员工都没怎么学，今年就不续了")
    assert result.level == "low"
    switching = run("他们那家服务太差了，到期不续了，想看看你们的", "你们有没有案例？")
    assert switching.level != "low"


def test_choosing_someone_else_but_not_us():
    assert run("差太多了，我们还是去学而思吧").level == "low"
    assert run(">方案您看了吗", "想来想去还是用你们的吧，合同发我").level == "high"


# ------------------------------------------------------------- approval / trust
@pytest.mark.parametrize("said", ["我拿给老板看看再说", "有点贵，我跟孩子妈商量下", "这个要走招标"])
def test_approval_family(said):
    assert "need_approval" in ids(run(said))


@pytest.mark.parametrize("said", ["时效能保证吗？", "直播的时候会不会卡", "你们服务过哪些企业客户",
                                  "测得好再说", "会不会有副作用"])
def test_trust_family(said):
    assert "trust_quality" in ids(run(said))


@pytest.mark.parametrize("said", ["有点超出我们预算了", "没这个钱了", "预算就那么多"])
def test_budget_family(said):
    assert "budget" in ids(run(said))


def test_business_down_is_not_an_order():
    result = run("现在订单少，机器都停了一半")
    assert not any(r.label == "谈合同/下单" for r in result.reasons)


# ---------------------------------------------------------------- engagement
def test_ordering_a_quantity_is_a_buying_signal():
    result = run("报告没问题的话，先给我们车间做200套")
    assert any(r.label == "报数量下单" for r in result.reasons)
    assert not any(r.label == "报数量下单" for r in run("我们来了两个人看展").reasons)


def test_engaged_but_hedging_is_medium_not_low():
    result = run("价格有点高啊，贵了快两成", "我再对比对比吧", "嗯嗯 回头再说")
    assert result.level == "medium"


def test_a_refusal_is_not_lifted_by_the_floor():
    assert run("你们的报价比别家贵", "算了，不用了").level == "low"


def test_pure_delay_without_interest_stays_low():
    assert run("厂房还没搬，现在买了也没地方放", "等明年新厂建好了再说吧").level == "low"


def test_a_polite_brush_off_is_a_refusal():
    assert run("嗯 有机会再说吧").level == "low"
    assert run("好的 有需要再找你").level == "low"


@pytest.mark.parametrize("text", ["不了不了，我腰不好坐不住", "不用啦 我们跟货代合作很多年了"])
def test_spaces_and_repeats_end_a_refusal(text):
    assert run(text).level == "low"


# --------------------------------------------------------------- call notes
def test_reported_speech_in_call_notes_is_the_customer():
    notes = "电话联系人民医院，设备科说今年没有预算，明年再说。我说可以先免费试用。"
    transcript = parse_transcript(notes, now=NOW)
    roles = [(t.role, t.text) for t in transcript.turns]
    assert any(role == ROLE_CUSTOMER and "没有预算" in text for role, text in roles)
    assert any(role == ROLE_REP and "免费试用" in text for role, text in roles)
    assert "budget" in ids(analyze(notes, now=NOW))


def test_a_rep_action_opening_does_not_swallow_the_customer():
    notes = "和园区刘主任电话，园区想做访客系统，但今年预算只剩一点"
    result = analyze(notes, now=NOW)
    assert "budget" in ids(result)
