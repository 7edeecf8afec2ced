"""Cleaning rules, as tables of input → expected output (the playbook's [ingest.cleaning] rules)."""
from datetime import datetime

import pytest

from core.config import ConfigError, load_config
from services import cleaning as cl

CONFIG = load_config()
RULES = CONFIG.ingest.cleaning


@pytest.mark.parametrize("raw,expected", [
    ("13812345678", "13812345678"),
    ("+86 138-1234-5678", "13812345678"),
    ("0086 13812345678", "13812345678"),
    ("138 1234 5678", "13812345678"),
    ("１３８１２３４５６７８", "13812345678"),              # full-width digits
    (13812345678.0, "13812345678"),                       # Excel numeric cell
    ("13812345678 / 13912345678", "13812345678"),           # two numbers: the first valid one
    ("无效/13912345678", "13912345678"),
    ("021-6488 1234", "02164881234"),
    ("12345", "12345"),                                   # stays as written; the quality gate refuses it
])
def test_phone_normalization(raw, expected):
    assert cl.norm_phone(raw) == expected


@pytest.mark.parametrize("raw,expected", [
    ("  华东精密机械有限公司 ", "华东精密机械有限公司"),
    ("华东精密机械（苏州） 有限公司", "华东精密机械(苏州)有限公司"),
    ("华东 精密 机械", "华东精密机械"),
    ("ＡＢＣ科技有限公司。", "ABC科技有限公司"),
    ("Acme  Trading Co., Ltd.", "Acme Trading Co., Ltd"),
])
def test_company_normalization(raw, expected):
    assert cl.norm_company(raw) == expected


@pytest.mark.parametrize("raw,expected", [
    ("制造业", "制造业"),
    ("机械加工", "制造业"),
    ("汽车配件", "制造业"),
    ("互联网", "信息技术"),
    ("IT服务", "信息技术"),
    ("digital marketing", "digital marketing"),             # "it" inside a word is not IT
    ("K12 教育培训", "教育"),
    ("连锁零售", "零售"),
    ("农业", "农业"),                                       # unknown: kept as written
])
def test_industry_synonyms(raw, expected):
    assert cl.norm_industry(raw, RULES.industries) == expected


@pytest.mark.parametrize("raw,expected", [
    ("500人以上", "大型"),
    ("1000+", "大型"),
    (350, "中型"),
    ("50-199人", "中型"),
    ("200-999人", "中型"),                                  # a range counts from its lower bound
    ("20人", "小型"),
    ("集团", "大型"),
    ("初创团队", "小型"),
    ("1.2万人", "大型"),
    ("不清楚", "不清楚"),
])
def test_size_bands(raw, expected):
    assert cl.band_of(raw, RULES.size_bands) == expected


@pytest.mark.parametrize("raw,expected", [
    ("每月", "高频"), ("24次/年", "高频"), ("每季度", "中频"), ("6", "中频"), ("每年一次", "低频"), ("1", "低频"),
])
def test_frequency_bands(raw, expected):
    assert cl.band_of(raw, RULES.frequency_bands) == expected


@pytest.mark.parametrize("header,field", [
    ("姓名", "contact"), ("联系人", "contact"), ("电话", "phone"), ("手机", "phone"), ("手机号码*", "phone"),
    ("联系电话（必填）", "phone"), ("公司", "company"), ("单位", "company"), ("企业名称", "company"),
    ("所属行业", "industry"), ("员工人数", "size"), ("线索来源", "source"), ("主营产品", "main_product"),
    ("预算", "budget"), ("Decision maker", "decision_maker"), ("Company Name", "company"), ("负责人", "owner"),
    ("产品兴趣", "interest"), ("采购频次", "purchase_frequency"), ("地区", "region"),
])
def test_header_synonyms(header, field):
    assert cl.synonyms(CONFIG).get(cl.header_key(header)) == field


WEBSITE = CONFIG.sources["website"]
OUTBOUND = CONFIG.sources["outbound"]

# A whole record through the engine: (source, raw input, expected data, expected extras, problems)
RECORDS = [
    (WEBSITE, {"your_name": "张伟", "mobile": "+86 138 0013 8000", "company_name": "华东精密机械(苏州)有限公司",
               "product": "数控机床，想要报价", "行业": "机械加工", "规模": "200人"},
     {"name": "张伟", "contact": "张伟", "phone": "13800138000", "company": "华东精密机械(苏州)有限公司",
      "industry": "制造业", "size": "中型", "source": "线上渠道-主动咨询", "tags": ["行业:制造业", "规模:中型"]},
     {"interest": "数控机床,想要报价"}, []),
    (OUTBOUND, {"联系人": "李娜", "手机": "13912345678", "公司": "蓝海软件", "industry": "SaaS", "采购频次": "每季度"},
     {"name": "李娜", "contact": "李娜", "phone": "13912345678", "company": "蓝海软件", "industry": "信息技术",
      "source": "外呼-被动响应", "tags": ["行业:信息技术", "采购:中频"]},
     {"purchase_frequency": "中频"}, []),
    # the payload's own source word maps to a configured label and wins over the source default
    (OUTBOUND, {"name": "王总", "phone": "13700000001", "source": "官网"},
     {"name": "王总", "phone": "13700000001", "source": "线上渠道-主动咨询"}, {}, []),
    # missing phone: a problem, nothing invented
    (WEBSITE, {"your_name": "赵六"}, {"name": "赵六", "contact": "赵六", "source": "线上渠道-主动咨询"}, {}, ["phone"]),
    # structured values are refused field by field; unknown keys are ignored and reported
    (WEBSITE, {"name": ["x"], "phone": "13600000000", "utm_campaign": "spring"},
     {"phone": "13600000000", "source": "线上渠道-主动咨询"}, {}, ["name"]),
]


@pytest.mark.parametrize("source,raw,data,extras,problems", RECORDS)
def test_clean_record(source, raw, data, extras, problems):
    out = cl.clean(raw, CONFIG, source, required=source.required)
    assert out.data == data
    assert out.extras == extras
    assert sorted({p.field for p in out.problems}) == problems


def test_spreadsheet_default_label_and_free_text_source():
    out = cl.clean({"客户名称": "甲公司", "来源": "朋友介绍"}, CONFIG, None, default_label="表格导入")
    assert out.data["source"] == "朋友介绍"                        # unknown words are kept as written
    out = cl.clean({"客户名称": "甲公司", "来源": "老客户介绍"}, CONFIG, None, default_label="表格导入")
    assert out.data["source"] == "转介绍"
    out = cl.clean({"客户名称": "甲公司"}, CONFIG, None, default_label="表格导入", required=("name", "phone_or_company"))
    assert out.data["source"] == "表格导入"
    assert [p.field for p in out.problems] == ["phone"]


def test_cleaned_data_passes_the_quality_gate():
    from services.customers import clean_record
    out = cl.clean(RECORDS[0][1], CONFIG, WEBSITE)
    cleaned, problems = clean_record(out.data, CONFIG, datetime(2026, 11, 26))
    assert problems == []
    assert cleaned["phone"] == "13800138000"


@pytest.mark.parametrize("snippet,message", [
    ('[sources.bad]\nlabel = "x"\nsecret = "hunter2"\n', "unknown key"),
    ('[sources.bad]\nlabel = "x"\nsecret_env = "my secret"\n', "environment variable"),
    ('[sources.bad]\nlabel = "x"\nauth = "bearer"\n', "token_env"),
    ('[sources.bad]\nlabel = "x"\ntoken_env = "X_TOKEN"\n[sources.bad.fields]\nfoo = "nonexistent"\n', "unknown field"),
    ('[connectors.crm]\nenabled = false\n', "unknown connector"),
    ('[connectors.erp]\nenabled = true\n', "base_url"),
    ('[connectors.erp]\nschedule = "2am"\n', "hourly:MM"),
    ('[assignment]\nstrategy = "random"\n', "round_robin"),
])
def test_ingest_config_is_validated(tmp_path, snippet, message):
    from pathlib import Path
    text = (Path(__file__).resolve().parents[1] / "config.toml").read_text(encoding="utf-8")
    # drop the shipped sections the snippet redefines, then append the snippet
    for header in ("[connectors.erp]", "[assignment]"):
        if header in snippet and header in text:
            start = text.index(header)
            end = text.find("\n[", start + 1)
            text = text[:start] + (text[end + 1:] if end != -1 else "")
    path = tmp_path / "config.toml"
    path.write_text(text + "\n" + snippet, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message in str(info.value)
