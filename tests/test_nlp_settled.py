"""What settles an objection and what does not (nlp/settled.py; review of session 23): a later
customer turn must commit — pay or decide outright — and not on a condition, nor talk of payment
terms or decide something else; a doubt is gone only when said without a condition. Complaints
about us stay complaints, a rival that is cheaper stays a competitor. Short chats of our own."""
import pytest

from nlp import clauses, model, settled
from nlp.analyze import analyze

from tests.objection_chats import lexicon_only, objections  # noqa: F401 (lexicon_only: autouse fixture)


RAISED = [">方案和报价发您了", "太贵了，我还得跟老板汇报"]


@pytest.mark.parametrize("later", [
    "定了下周三见面再聊",             # a meeting decided, not the purchase
    "预算定了，就5万，超了不行",       # the budget decided
    "付款方式我们只能月结",           # payment terms
    "我们付款周期是90天",
    "定金我们一般不付，都是货到付款",
])
def test_a_decision_about_something_else_or_payment_terms_settle_nothing(later):
    found = objections(*RAISED, ">好的", later)
    assert {"price", "need_approval"} <= found


def test_paying_outright_settles_price_and_approval():
    found = objections(*RAISED, ">老板那边我可以一起汇报", "行 就这么定 定金今天转过去")
    assert not {"price", "need_approval"} & found


@pytest.mark.parametrize("text, gone", [
    ("好 放心了", True),
    ("案例我看了，顾虑打消了", True),
    ("要是能先试用一个月我就放心了", False),   # on a condition
    ("你们能保证交期，我才放心了", False),     # 才放心: a condition too
    ("还是不放心了", False),
])
def test_a_doubt_is_gone_only_when_said_without_a_condition(text, gone):
    assert settled.reassures(text) is gone


def test_a_conditional_reassurance_keeps_the_trust_doubt():
    assert "trust_quality" in objections(">资料发您了", "你们质量靠谱吗 有点担心", ">我们做了十年", "要是能先试用一个月我就放心了")
    assert "trust_quality" not in objections(">资料发您了", "你们质量靠谱吗 有点担心", ">我们做了十年", "好 放心了")


@pytest.mark.parametrize("said", [
    "上次买的那批有质量问题，全是破损的",
    "网上下的单一直没发货",
    "上一个订单的货有破损，太差了",
    "同行推荐过来的，发错货了",
])
def test_a_complaint_about_our_own_order_stays_a_complaint(said):
    assert clauses.complaint_kind(said) == "complaint"


def test_a_grievance_told_about_another_vendor_is_no_complaint_about_us():
    assert clauses.complaint_kind("之前在别家买的，质量太差了") == ""


@pytest.mark.parametrize("said", [
    "别家报价比这个便宜",
    "隔壁那家比这边便宜两成",
    "阿里云比我们现在用的便宜",
    "我们在对比阿里云，阿里云不算贵",
])
def test_a_rival_that_is_cheaper_stays_a_competitor(said):
    assert "competitor" in objections(">报价发您了", said)


def test_a_rival_signed_with_is_a_competitor_and_renewing_the_incumbent_is_not():
    assert "competitor" in objections(">方案发您了", "不好意思，我们已经跟人保签了")
    assert "competitor" not in objections(">方案发您了", "我们用的是现在这家的系统，去年续了三年，挺满意的")


@pytest.mark.parametrize("lines, oid", [
    (["小李：报价发您了", "孙总：68有点高啊", "小李：最低65了", "孙总：好 定了"], "price"),
    (["小李：这是方案", "孙总：你们质量靠谱吗 有点担心", "小李：我们有十年案例", "孙总：好 放心了"], "trust_quality"),
    (["小李：报价单发您了", "孙总：太贵了 别家便宜多了", "小李：我们送安装", "孙总：那行 就这么定 我今天打款"], "price"),
])
def test_the_models_heads_do_not_bring_back_a_settled_objection(lines, oid):
    model.set_enabled(True)
    try:
        assert oid not in {o.id for o in analyze("\n".join(lines), rep_names=["小李"]).objections}
    finally:
        model.set_enabled(False)
