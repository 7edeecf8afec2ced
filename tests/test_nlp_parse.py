"""Transcript parsing: formats, speakers, times, who the customer is."""
from datetime import datetime

import pytest

from nlp.parse import MAX_PASTE_CHARS, parse_transcript
from nlp.times import parse_stamp

NOW = datetime(2024, 3, 8, 12, 0)

WECHAT = """王总 2024/3/5 10:21
你好，你们这个CRM一年多少钱？
小李 2024/3/5 10:25
王总您好！标准版每个账号每年1200元
现在有优惠活动
王总 2024/3/5 下午2:05
价格有点高啊
"""


def test_wechat_record_turns_speakers_and_times():
    tr = parse_transcript(WECHAT, rep_names=["小李"], now=NOW)
    assert tr.format == "wechat"
    assert [t.speaker for t in tr.turns] == ["王总", "小李", "王总"]
    assert tr.turns[1].text == "王总您好！标准版每个账号每年1200元\n现在有优惠活动"
    assert tr.turns[0].time == datetime(2024, 3, 5, 10, 21)
    assert tr.turns[2].time.hour == 14
    assert [t.role for t in tr.turns] == ["customer", "rep", "customer"]
    assert tr.customer == "王总" and tr.rep == "小李" and not tr.needs_customer_choice


def test_wecom_seconds_and_time_first_headers():
    text = "2024-03-05 10:21:33 李经理\n报价收到了\n2024-03-05 10:22:10 Amy Chen\n好的，有问题随时找我\n"
    tr = parse_transcript(text, rep_names=["Amy"], now=NOW)
    assert tr.format == "wechat"
    assert [t.speaker for t in tr.turns] == ["李经理", "Amy Chen"]
    assert tr.turns[0].time == datetime(2024, 3, 5, 10, 21, 33)
    assert tr.customer == "李经理"


def test_wechat_system_lines_and_relative_dates_are_handled():
    text = "王总 昨天 10:21\n合同发我\n王总撤回了一条消息\n小李 昨天 10:30\n好的\n"
    tr = parse_transcript(text, rep_names=["小李"], now=NOW)
    assert [t.text for t in tr.turns] == ["合同发我", "好的"]
    assert tr.turns[0].time == datetime(2024, 3, 7, 10, 21)


def test_colon_lines_with_times_and_continuations():
    text = ("[09:10] 张伟：李总，报价发您了\n[09:45] 李总: 看了，有点贵\n"
            "我们再比较一下\n[10:20] 李总：下周再说")
    tr = parse_transcript(text, rep_names=["张伟"], now=NOW)
    assert tr.format == "colon"
    assert [t.speaker for t in tr.turns] == ["张伟", "李总", "李总"]
    assert tr.turns[1].text == "看了，有点贵\n我们再比较一下"
    assert tr.turns[1].time == datetime(2024, 3, 8, 9, 45)
    assert tr.customer == "李总"


def test_colon_aliases_me_and_customer():
    tr = parse_transcript("我：您好，想了解少儿英语吗？\n客户：不用了\n我：有免费体验课\n客户：真的不用", now=NOW)
    assert [t.role for t in tr.turns] == ["rep", "customer", "rep", "customer"]
    assert not tr.needs_customer_choice


def test_telegram_desktop_copy_and_forward_origin():
    text = ("Mike Zhang, [03.06.2024 14:02]\nHow much for 100 seats?\n\n"
            "Lena (Sales), [03.06.2024 14:05]\n120k RMB per year\n\n"
            "Mike Zhang, [03.06.2024 15:40]\nThat's pricey 😅")
    tr = parse_transcript(text, forward_origin="Mike Zhang", now=NOW)
    assert tr.format == "telegram_forward"
    assert [t.speaker for t in tr.turns] == ["Mike Zhang", "Lena (Sales)", "Mike Zhang"]
    assert tr.turns[0].time == datetime(2024, 6, 3, 14, 2)     # day.month.year
    assert tr.customer == "Mike Zhang" and tr.rep == "Lena (Sales)"
    assert not tr.needs_customer_choice


def test_forwarded_from_lines_name_the_customer():
    text = "[Forwarded from 陈总]\n谢谢，我们目前没有这方面的计划\n"
    tr = parse_transcript(text, now=NOW)
    assert tr.format == "telegram_forward"
    assert tr.customer == "陈总" and tr.turns[0].role == "customer"


def test_without_names_roles_are_guessed_and_the_bot_should_ask():
    text = ("邓总 2024/6/11 10:00\n你们和纷享销客比有什么区别？\n"
            "小陈 2024/6/11 10:02\n邓总您好！我们更适合中小团队，给您发个资料？\n")
    tr = parse_transcript(text, now=NOW)
    assert tr.needs_customer_choice
    assert tr.customer == "邓总" and tr.rep == "小陈"      # seller wording: 您, 给您
    chosen = tr.with_customer("小陈")
    assert chosen.customer == "小陈" and not chosen.needs_customer_choice
    assert [t.role for t in chosen.turns] == ["rep", "customer"]


def test_rep_name_matches_partially():
    text = "王总: 多少钱\n小王-销售顾问: 1200一年\n王总: 好"
    tr = parse_transcript(text, rep_names=["小王"], now=NOW)
    assert [t.role for t in tr.turns] == ["customer", "rep", "customer"]


def test_call_notes_attribute_clauses_by_subject():
    text = "2024-03-06 电话回访 张经理\n客户对样机很满意，问交期多久。我说可以申请优惠，他说价格还是有点高。"
    tr = parse_transcript(text, now=NOW)
    assert tr.format == "call_notes"
    by_role = {role: " ".join(t.text for t in tr.turns if t.role == role) for role in ("rep", "customer")}
    assert "申请优惠" in by_role["rep"] and "申请优惠" not in by_role["customer"]
    assert "价格还是有点高" in by_role["customer"] and "交期" in by_role["customer"]


def test_bulleted_notes_are_not_a_colon_chat():
    text = "- 客户：华盛电子 刘总\n- 刘总问检测线什么时候能到厂\n- 预付款本周五打款\n- 我：周一出计划"
    assert parse_transcript(text, now=NOW).format == "call_notes"


def test_label_lines_in_notes_are_not_speakers():
    text = "时间：3月5日\n地点：客户公司\n备注：客户觉得价格偏高，下周再联系"
    tr = parse_transcript(text, now=NOW)
    assert tr.format == "call_notes" and tr.speakers == []


@pytest.mark.parametrize("text", ["", "   \n\n", "\u200b\ufeff"])
def test_empty_input_has_no_turns(text):
    tr = parse_transcript(text, now=NOW)
    assert tr.turns == [] and tr.customer is None


def test_huge_paste_keeps_its_end():
    line = "王总 2024/3/5 10:21\n价格多少？\n"
    text = line * (MAX_PASTE_CHARS // len(line) + 50) + "王总 2024/3/5 11:00\n最后一句\n"
    tr = parse_transcript(text, now=NOW)
    assert tr.turns[-1].text == "最后一句"
    assert sum(len(t.text) for t in tr.turns) < MAX_PASTE_CHARS


@pytest.mark.parametrize("stamp,expected", [
    ("2024/3/5 10:21", datetime(2024, 3, 5, 10, 21)),
    ("2024年3月5日 下午2:05", datetime(2024, 3, 5, 14, 5)),
    ("05.03.2024 10:21", datetime(2024, 3, 5, 10, 21)),
    ("3/5/2024 10:21 PM", datetime(2024, 3, 5, 22, 21)),
    ("昨天 09:00", datetime(2024, 3, 7, 9, 0)),
    ("星期二 08:30", datetime(2024, 3, 5, 8, 30)),      # NOW is a Friday
    ("10:21", datetime(2024, 3, 8, 10, 21)),
])
def test_timestamp_formats(stamp, expected):
    assert parse_stamp(stamp, NOW) == expected


# Any paste, however odd, parses and analyses without raising.
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PIECES = st.sampled_from(["王总 2024/3/5 10:21\n", "小李：", "Mike, [05.03.2024 10:21]\n", "[图片]", "😀",
                           "太贵了", "不需要", "合同发我", "：", ":", "\n", " ", "https://x.y/z", "10:21",
                           "[Forwarded from 陈总]\n", "- ", "，", "price", "如果", "不"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=200), st.lists(_PIECES, max_size=40).map("".join)))
def test_any_text_parses_and_analyses(text):
    from nlp.analyze import analyze
    tr = parse_transcript(text, rep_names=["小李"], now=NOW)
    assert tr.format in ("wechat", "colon", "telegram_forward", "call_notes")
    result = analyze(tr)
    assert 0 <= result.score <= 100 and result.level in ("high", "medium", "low")
    assert all(len(r.quote) <= 60 for r in result.reasons)


def test_name_space_lines_without_colon_are_speaker_lines():
    text = ("小马 赵姐您好 上次说的那款净水器到货了\n赵姐 多少钱一台\n小马 活动价两千九\n"
            "赵姐 有点贵 我再想想\n")
    tr = parse_transcript(text, rep_names=["小马"], now=NOW)
    assert [t.speaker for t in tr.turns] == ["小马", "赵姐", "小马", "赵姐"]
    assert [t.role for t in tr.turns] == ["rep", "customer", "rep", "customer"]
    assert tr.turns[3].text == "有点贵 我再想想"


def test_prose_notes_with_spaces_stay_notes():
    text = ("周二 电话回访刘总 对方说价格还在比\n下周 再约一次演示\n客户 担心售后响应慢\n"
            "今天 发了报价单\n")
    tr = parse_transcript(text, rep_names=["小马"], now=NOW)
    assert tr.format == "call_notes"


def test_traditional_rep_name_matches_the_simplified_text():
    text = "信義房屋-阿宏：房東最多降到21000\n小婷：我預算是兩萬以內耶\n"
    tr = parse_transcript(text, rep_names=["信義房屋-阿宏"], now=NOW)
    assert [t.role for t in tr.turns] == ["rep", "customer"]
    assert tr.customer == "小婷"
