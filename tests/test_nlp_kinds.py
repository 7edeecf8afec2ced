"""Chats that are not sales are never "high" and are told plainly what they are (issue 13, item 5):
complaints and service questions full of order words about an order that already exists, the
kind features the trained kind head reads, its decision and how its thresholds are chosen."""
from __future__ import annotations

import pytest

from nlp import engine, kinds, model
from nlp.analyze import analyze


@pytest.fixture(scope="module", autouse=True)
def warm():
    engine.warm_up()


def chat(*lines: str):
    return analyze("\n".join(lines), rep_names=["小李"])


# After-sales complaints that talk of contracts, payments, orders and prices (of an order that exists).
COMPLAINTS = [
    ("王总：小李，上个月签的合同，付款也付了，到现在货还没发，你们怎么回事？", "小李：王总抱歉，我马上问仓库",
     "王总：订单号你查一下，再不发我们就走法务了"),
    ("王总：我们订的200箱今天签收了，少了10箱", "小李：不好意思，我核对一下发货单",
     "王总：合同写的是200箱，付款是按200付的，你们得补上", "小李：明白，明天补发"),
    ("王总：我之前在你们这买的净水器，付款的时候说包安装，现在一周了没人来", "小李：抱歉，我催一下师傅",
     "王总：价格比别家贵还这服务？今天必须给我个答复"),
]


@pytest.mark.parametrize("lines", COMPLAINTS)
def test_complaint_full_of_order_words_is_a_complaint_with_the_after_sales_hint(lines):
    result = chat(*lines)
    assert result.kind == "complaint" and result.level == "low"
    assert "售后" in result.note and "不是购买意向" in result.note
    assert not result.objections and not result.next_step


def test_service_question_about_an_existing_invoice_is_not_high():
    result = chat("王总：上次那批货的发票开错了，抬头写成了旧公司名，麻烦重开一张", "小李：好的，您把原发票寄回来",
                  "王总：价格也不对，合同价是每件12块，发票上是13")
    assert result.kind == "service" and result.level == "low" and "服务咨询" in result.note


def test_a_purchase_to_come_with_the_same_words_stays_high():
    result = chat("小李：王总，报价单发您了", "王总：报价我看了，合同发我吧，这周付款",
                  "小李：好的马上发", "王总：发票开专票，下周一发货可以吗")
    assert result.kind == "sales" and result.level == "high" and not result.note


def _views(text: str):
    from nlp.parse import ROLE_CUSTOMER, parse_transcript
    from nlp.analyze import _segment

    views = _segment(parse_transcript(text, ["小李"]), engine.resources().lexicon)
    return views, [v for v in views if v.turn.role == ROLE_CUSTOMER]


def test_kind_features_tell_an_existing_order_from_a_purchase_to_come():
    after = kinds.kind_features(*_views("王总：我的订单已经签收了，少了两箱，怎么回事？？\n小李：抱歉，马上给您补发"))
    before = kinds.kind_features(*_views("小李：王总，新品有活动价，要不要了解一下\n王总：多少钱？先订50箱试试"))
    assert after["ks_past_order"] > 0 and after["ks_anger"] > 0 and after["ks_rep_service"] > 0
    assert after["ks_steps"] == 0 and after["ks_no_step"] == 1 and after["ks_customer_opens"] == 1
    assert before["ks_past_order"] == 0 and before["ks_steps"] > 0 and before["ks_rep_offer"] > 0
    assert before["ks_rep_opens"] == 1 and before["ks_rep_service"] == 0
    named = kinds.kind_features(*_views("应聘者小罗：你好，底薪多少？\n售后-小刘：您好"))
    assert named["ks_name_applicant"] == 1 and named["ks_name_service"] == 1 and named["ks_name_hr"] == 0


SURE_NOT = {"sales": 0.05, "complaint": 0.8, "service": 0.1, "job": 0.02, "spam": 0.02, "chitchat": 0.01}
UNSURE = {"sales": 0.55, "complaint": 0.1, "service": 0.3, "job": 0.02, "spam": 0.02, "chitchat": 0.01}
SURE_SALES = {"sales": 0.97, "complaint": 0.01, "service": 0.01, "job": 0.0, "spam": 0.01, "chitchat": 0.0}


def test_decide_kind():
    assert model.decide_kind("sales", {}, 0.5, 0.3, 0.1) == ("sales", False)           # no kind head
    assert model.decide_kind("sales", SURE_NOT, 0.8, 0.3, 0.1) == ("complaint", False)
    assert model.decide_kind("sales", UNSURE, 0.8, 0.3, 0.1) == ("sales", True)       # never high
    assert model.decide_kind("sales", UNSURE, 0.8, 0.5, 0.1) == ("sales", False)
    assert model.decide_kind("chitchat", SURE_SALES, 0.8, 0.3, 0.1) == ("sales", False)
    assert model.decide_kind("chitchat", SURE_SALES, 0.8, 0.3, -1.0) == ("chitchat", False)


def test_thresholds_keep_non_sales_off_high_out_of_fold():
    np = pytest.importorskip("numpy")
    from nlp import kind_train

    rng = np.random.default_rng(3)
    n = 400
    none = rng.random(n) < 0.3
    gold = np.where(none, 0, rng.integers(0, 3, n))
    s = np.where(gold == 2, 80.0, np.where(gold == 1, 50.0, 20.0)) + rng.normal(0, 8, n)
    s = np.where(none & (rng.random(n) < 0.3), 75.0, s)             # angry complaints the lexicon loves
    p_not = np.clip(np.where(none, 0.7, 0.1) + rng.normal(0, 0.15, n), 0, 1)
    rule_not = none & (rng.random(n) < 0.5)
    one_sided = np.zeros(n, dtype=bool)
    hand = np.ones(n, dtype=bool)
    chosen, info = kind_train.choose(s, p_not, rule_not, one_sided, gold, none, hand)
    level, _ = kind_train.outcome(s, p_not, rule_not, one_sided, chosen)
    assert (level[none] == 2).mean() <= kind_train.MAX_NON_SALES_HIGH
    assert info["kind_rules_alone"]["non_sales_high"] > kind_train.MAX_NON_SALES_HIGH
    assert len(info["kind_curve"]) == len(kind_train.CAP_GRID)


def test_trained_kind_head_is_saved_and_loaded(tmp_path):
    pytest.importorskip("sklearn")
    from nlp import train
    from nlp.corpus import generate

    rows = generate(150)
    feats = train.features_for(rows)
    fitted = train.fit(rows, feats, calibrate=False)
    fitted.kind_not, fitted.kind_cap, fitted.kind_keep = 0.9, 0.6, 0.05
    train.save(fitted, tmp_path)
    loaded = model.load(tmp_path)
    assert loaded.kind_w is not None and (loaded.kind_not, loaded.kind_cap, loaded.kind_keep) == (0.9, 0.6, 0.05)
    p_not = [1 - loaded.predict_all(f)[2]["sales"] for f in feats]
    none = [p for p, r in zip(p_not, rows) if r["intent"] == "none"]
    sales = [p for p, r in zip(p_not, rows) if r["intent"] != "none"]
    assert none and sales and sum(none) / len(none) > sum(sales) / len(sales)


def test_eval_file_reports_non_sales_called_high_per_kind(tmp_path):
    import json

    from nlp import eval as nlp_eval

    rows = [
        {"id": "c1", "intent": "none", "kind": "complaint", "objections": [], "rep": "小李", "format": "colon",
         "text": "\n".join(COMPLAINTS[0])},
        {"id": "s1", "intent": "high", "objections": [], "rep": "小李", "format": "colon",
         "text": "小李：王总，报价单发您了\n王总：报价我看了，合同发我吧，这周付款"},
        {"id": "l1", "intent": "low", "objections": [], "rep": "小李", "format": "colon",
         "text": "小李：王总，报价单发您了\n王总：不需要了，谢谢"},
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    figures = nlp_eval.evaluate(path)
    assert figures["non_sales_n"] == 1 and figures["non_sales_called_high"] == 0
    assert figures["non_sales_called_high_complaint"] == 0 and figures["non_sales_named"] == 1.0
    assert figures["sales_called_not_sales"] == 0 and figures["low_intent_called_high"] == 0


def test_job_seeker_asking_about_pay_and_contract_is_a_job_chat():
    result = chat("王总：你好，看到你们在招销售，底薪多少？", "小李：底薪5000加提成",
                  "王总：签劳动合同吗？试用期几个月？付款是月结吗")
    assert result.kind == "job" and result.level == "low" and "求职" in result.note


def test_existing_contract_terms_without_a_step_are_service():
    result = chat("王总：小李，合同上写的是每季度上门保养一次，这季度什么时候来？", "小李：下周二安排工程师过去")
    assert result.kind in ("service", "complaint") and result.level == "low"


def test_a_quote_refused_in_two_lines_is_a_cold_sales_chat_not_spam():
    """The kind head may call a chat spam only when it carries an ad's marks (link, 【headline】,
    opt-out, 群发, 加V, 扫码 …); a broadcast ad still is spam."""
    from nlp.analyze import analyze

    cold = analyze("小李：王总，报价单发您了\n王总：不需要了，谢谢", rep_names=["小李"])
    assert cold.kind == "sales" and cold.level == "low"
    ad = analyze("[Forwarded from 云服务特惠] 【限时】企业云服务器 首年99元 点击领取 https://xx.cn/a")
    assert ad.kind not in ("sales",) and ad.level == "low"


def test_spam_words_without_a_link_still_allow_the_spam_reading():
    from nlp.kinds import looks_broadcast

    assert looks_broadcast("无抵押贷款 当天放款 有需要的老板私聊")
    assert looks_broadcast("【招商】诚招代理")
    assert not looks_broadcast("小李：王总，报价单发您了\n王总：不需要了，谢谢")


def test_existing_and_anger_marks_are_searched_once_per_turn(monkeypatch):
    """kind_of (the rules) and kind_features (the model's input) share one search per turn."""
    searched = []

    class Counting:
        def __init__(self, pattern):
            self.pattern = pattern

        def search(self, text):
            searched.append((self.pattern.pattern[:8], text))
            return self.pattern.search(text)

    monkeypatch.setattr(kinds, "_EXISTING", Counting(kinds._EXISTING))
    monkeypatch.setattr(kinds, "_ANGER", Counting(kinds._ANGER))
    # not an after-sales clause by its words, so the rules read the contract terms (and then anger)
    result = chat("王总：合同里写的免费培训两次，到底什么时候安排", "小李：下周二安排", "王总：合同上写的是保证供应")
    assert result.kind in ("service", "complaint")
    assert {p for p, _ in searched} == {kinds._EXISTING.pattern.pattern[:8], kinds._ANGER.pattern.pattern[:8]}
    assert searched and len(searched) == len(set(searched))


def test_service_on_what_the_customer_has_is_told_from_buying_more_of_it():
    """Both speak of renewals and accounts: asking for service on an existing policy/account vs
    a renewal quote or an upgrade (kind features the head reads)."""
    own = kinds.kind_features(*_views("王总：我们的账号登不上了，是不是要重置密码\n小李：帮您重置了，临时密码发您手机"))
    claim = kinds.kind_features(*_views("王总：我的保单续保了吧？理赔要什么材料\n小李：理赔要原件，宽限期内保单不会失效"))
    renew = kinds.kind_features(*_views("王总：明年续费报价发我一下，再加10个账号\n小李：好的，新报价今天发您"))
    upgrade = kinds.kind_features(*_views("王总：套餐要升级到企业版，多少钱\n小李：一年加3600"))
    for f in (own, claim):
        assert f["ks_own_service"] > 0 and f["ks_own_no_upsell"] == 1 and f["ks_upsell"] == 0
        assert f["ks_rep_howto"] > 0
    for f in (renew, upgrade):
        assert f["ks_upsell"] > 0 and f["ks_own_no_upsell"] == 0 and f["ks_rep_howto"] == 0
    cited = kinds.kind_features(*_views("王总：合同里写的免费培训两次，什么时候安排\n小李：下周二"))
    assert cited["ks_existing"] == 1 and renew["ks_existing"] == 0
    seeker = kinds.kind_features(*_views("老黄：你们还招水电工吗，我干了十五年了\n小李：明天来面试吧"))
    assert seeker["ks_job_hint"] > 0 and renew["ks_job_hint"] == 0 and renew["ks_applicant"] == 0


def _features_of(text: str):
    out: list = []
    model.set_enabled(False)
    try:
        analyze(text, rep_names=["小李"], _features_out=out)
    finally:
        model.set_enabled(True)
    return out[0]


def test_the_kind_heads_spam_is_sales_without_an_ads_marks_in_training_and_serving():
    """Model.predict_all (what training chooses the kind thresholds on, and what serving reads)
    folds "spam" into "sales" when the chat carries no ad's marks (featurize computes the flag)."""
    np = pytest.importorskip("numpy")
    spammy = model.Model({}, {}, np.zeros((0, 4)), np.zeros(4), [], np.zeros((0, 0)), np.zeros(0), (1.5, 0.0, 0.0),
                         0.6, 0.0, 1.01, {}, kind_w=np.zeros((0, 6)), kind_b=np.asarray([0.0, 0, 0, 0, 4.0, 0]))
    cold = _features_of("小李：王总，报价单发您了\n王总：不需要了，谢谢")
    ad = _features_of("[Forwarded from 云服务特惠] 【限时】企业云服务器 首年99元 点击领取 https://xx.cn/a")
    assert not cold.broadcast and cold.structured["ks_ad_marks"] == 0
    assert ad.broadcast and ad.structured["ks_ad_marks"] == 1
    cold_kinds, ad_kinds = spammy.predict_all(cold)[2], spammy.predict_all(ad)[2]
    assert cold_kinds["spam"] == 0.0 and cold_kinds["sales"] > 0.9
    assert ad_kinds["spam"] > 0.9 and abs(sum(ad_kinds.values()) - 1) < 1e-9 and abs(sum(cold_kinds.values()) - 1) < 1e-9
