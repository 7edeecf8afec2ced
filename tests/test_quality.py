from datetime import datetime, timedelta

import pytest

from core.callbacks import MAX_BYTES, CardAction, OpenCard, decode
from services.dates import parse_when
from services.cleaning import FieldRejected, clean_field, normalize_phone, parse_amount
from services.company_names import company_core, similarity

NOW = datetime(2026, 11, 26, 9, 0)  # Thursday


@pytest.mark.parametrize("raw,norm", [
    ("+86 138-0013-8000", "13800138000"), ("0086 13800138000", "13800138000"), ("138 0013 8000", "13800138000"),
    ("(021) 6234-5678", "02162345678"), ("８６１３８００１３８０００", "13800138000"),
])
def test_phone_normalization(raw, norm):
    assert normalize_phone(raw) == norm


@pytest.mark.parametrize("name", ["华东精密机械集团有限公司", "华东精密机械(苏州)分公司", "华东精密机械子公司",
                                  "华东精密机械苏州分公司", "华东精密机械股份有限公司"])
def test_group_and_subsidiaries_share_one_core(name):
    assert company_core(name) == "华东精密机械"


def test_similar_but_different_companies_are_not_merged():
    assert similarity(company_core("华东精密机械"), company_core("华南精密机械")) < 0.88
    assert company_core("上海电气") != company_core("电气")


@pytest.mark.parametrize("field,value", [("main_product", "无"), ("main_product", "111"), ("main_product", "..."),
                                         ("company", "   "), ("phone", "12345"), ("amount", "很多"),
                                         ("main_product", "测试"), ("contact", "？？")])
def test_junk_is_refused_with_a_reason(config, field, value):
    with pytest.raises(FieldRejected) as info:
        clean_field(field, value, config, NOW)
    assert info.value.problem.reason("zh") and info.value.problem.reason("en")


def test_followup_in_2099_is_junk(config):
    with pytest.raises(FieldRejected, match="too far"):
        clean_field("next_followup_at", datetime(2099, 1, 1), config, NOW)
    assert clean_field("next_followup_at", NOW + timedelta(days=5), config, NOW)


def test_real_values_pass(config):
    assert clean_field("main_product", "数控机床", config, NOW) == "数控机床"
    assert clean_field("amount", "5万", config, NOW) == 50000
    assert clean_field("phone", "+86 138 0013 8000", config, NOW)


@pytest.mark.parametrize("text,amount", [("已报价5万", 50000), ("12.5w", 125000), ("50,000元", 50000), ("3k", 3000)])
def test_amounts(text, amount):
    assert parse_amount(text) == amount


@pytest.mark.parametrize("text,expected", [
    ("下周二回访", datetime(2026, 12, 1, 10)), ("明天下午3点", datetime(2026, 11, 27, 15)),
    ("周五", datetime(2026, 11, 27, 10)), ("3天后", datetime(2026, 11, 29, 10)), ("12月5日", datetime(2026, 12, 5, 10)),
    ("next tue", datetime(2026, 12, 1, 10)),
])
def test_relative_dates(text, expected):
    assert parse_when(text, NOW).at == expected


def test_callback_codec_roundtrip_and_tampering():
    data = CardAction(12, "done", "needs_analysis")
    assert decode(data.encode()) == data
    assert decode(OpenCard(5).encode()) == OpenCard(5)
    for forged in ["", "zz:1", "c:abc", "c:1:2", "ca:1", "c:" + "9" * 40, "ca:1:done:<b>", "c:-", None, "x" * 65]:
        assert decode(forged) is None
    with pytest.raises(ValueError):
        CardAction(1, "done", "x" * 70).encode()
    assert len(CardAction(10**15, "done", "a" * 24).encode().encode()) <= MAX_BYTES
