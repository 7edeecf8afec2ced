"""The first week as a rep and a manager live it (issue 14), through the real bot and the local Bot API server."""
from __future__ import annotations

import re
from datetime import datetime

from telegram import BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from telegram.ext import CommandHandler

from tests.e2e.test_e2e_navigation import add_customer
from tests.harness import button_data, buttons


async def _menu(h, scope, lang=None) -> list[str]:
    return [c.command for c in await h.app.bot.get_my_commands(scope=scope, language_code=lang)]


async def test_latin_aliases_and_menus_per_language_and_role(harness):
    h = harness
    admin, manager, (li, chen) = await h.team(reps=2)
    await add_customer(h, li, "张总", "华东精密机械集团有限公司", "13800138000")
    # The same lookup three ways: the menu's /dup, plain 「查重 …」 and the old 「/查重 …」.
    for text in ("/dup 华东精密机械子公司", "查重 华东精密机械子公司", "/查重 华东精密机械子公司"):
        answer = await h.send(chen, text)
        assert "销售1" in answer[-1]["text"] and "保护期至" in answer[-1]["text"], text
    usage = await h.send(chen, "/dup")
    assert "/dup" in usage[-1]["text"]
    # Every command the bot answers is in some menu; reps and managers get theirs in both languages.
    registered = {c for handler in h.app.handlers[0] if isinstance(handler, CommandHandler) for c in handler.commands}
    rep_zh = await _menu(h, BotCommandScopeAllPrivateChats())
    rep_en = await _menu(h, BotCommandScopeAllPrivateChats(), "en")
    mgr = await _menu(h, BotCommandScopeChat(manager["id"]))
    group = await _menu(h, BotCommandScopeAllGroupChats())
    assert rep_zh == rep_en and "dup" in rep_zh and "help" in rep_zh and "cancel" in rep_zh
    assert "invite" not in rep_zh and "invite" in mgr and "dup" in mgr
    assert {"bind", "unbind", "board"} <= set(group)
    assert registered - {"start"} <= set(rep_zh) | set(mgr) | set(group), registered - set(rep_zh) - set(mgr) - set(group)
    descriptions_en = {c.command: c.description for c in await h.app.bot.get_my_commands(
        scope=BotCommandScopeAllPrivateChats(), language_code="en")}
    assert all(ord(ch) < 0x3000 for d in descriptions_en.values() for ch in d), "English menu without Chinese"
    # /help lists /dup, /cancel and /help itself; the manager's part lists /unbind.
    helped = await h.send(li, "/help")
    assert all(c in helped[-1]["text"] for c in ("/dup", "/cancel", "/help")) and "/unbind" not in helped[-1]["text"]
    assert "/unbind" in (await h.send(manager, "/help"))[-1]["text"]
    assert h.tg.rejected() == []


async def test_manager_invite_says_it_is_for_a_manager(harness):
    h = harness
    admin = await h.make_admin()
    text = (await h.send(admin, "/invite manager"))[-1]["text"]
    assert "经理" in text and "的销售" not in text
    manager = await h.join(await h.invite(admin, "manager"), "王经理")
    welcome = [m for m in h.chat_messages(manager) if "欢迎" in (m.get("text") or "")][-1]["text"]
    assert "日报" in welcome and "/invite" in welcome  # a manager's welcome speaks of the digest, not task cards
    rep_invite = (await h.send(manager, "/invite"))[-1]["text"]
    assert "的销售" in rep_invite


OLD_FORMATS = re.compile(r"\d{2}月\d{2}日\(|\b20\d\d-\d\d-\d\d\b|\b\d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b")


async def test_one_date_convention_relative_where_it_helps_and_english_plurals(harness):
    h = harness
    _, manager, (li,) = await h.team(reps=1)
    alice = await h.join(await h.invite(manager), "Alice", language_code="en")
    await add_customer(h, li, "张总", "华东精密机械有限公司", "13800138000")
    await add_customer(h, alice, "Globex", "Globex Trading Company Ltd", "13900139000", "referral")
    # Thursday 26 Nov: "next Tuesday" is 下周二, with the time; tomorrow is 明天.
    preview = await h.send(li, "张总 已报价5万 下周二回访")
    assert "下次跟进：下周二 10:00" in preview[-1]["text"], preview[-1]["text"]
    await h.press(li, preview[-1], text="保存")
    tomorrow = await h.send(alice, "Globex revisit tomorrow")
    assert "Next follow-up: tomorrow 10:00" in tomorrow[-1]["text"], tomorrow[-1]["text"]
    # The morning brief: an absolute header date in each language, and "1 customer".
    await h.run_schedule(datetime(2026, 12, 1, 0, 31))  # Tuesday 1 Dec, 08:31
    brief_en = [m for m in h.chat_messages(alice) if "Today," in (m.get("text") or "")][-1]
    assert "Today, Tue 1 Dec (1 customer)" in brief_en["text"], brief_en["text"]
    brief_zh = [m for m in h.chat_messages(li) if "按优先级排序" in (m.get("text") or "")][-1]
    assert "12月1日 周二 今日任务" in brief_zh["text"], brief_zh["text"]
    card = await h.press(li, brief_zh, text="张总")
    assert "下次跟进：今天 10:00" in card[-1]["text"], card[-1]["text"]
    # /查重 answers the protection end in the same words.
    owned = await h.send(alice, "/dup 华东精密机械")
    assert re.search(r"protected until (next )?(Mon|Tue|Wed|Thu|Fri|Sat|Sun)( \d+ [A-Z][a-z]{2})?\.", owned[-1]["text"]), owned[-1]["text"]
    for chat in (li, alice, manager):
        for m in h.chat_messages(chat):
            body = m.get("text") or m.get("caption") or ""
            assert not OLD_FORMATS.search(body), body


def test_dates_and_labels_by_the_convention():
    from datetime import date

    from core.config import load_config
    from core.textfit import shorten, wrap_label
    from core.when import when_text
    thu = date(2026, 11, 26)
    cases = [(datetime(2026, 11, 26, 9, 5), "今天 09:05", "today 09:05"),
             (datetime(2026, 11, 27, 10), "明天 10:00", "tomorrow 10:00"),
             (datetime(2026, 11, 29, 10), "周日 10:00", "Sun 10:00"),
             (datetime(2026, 12, 1, 10), "下周二 10:00", "next Tue 10:00"),
             (datetime(2026, 12, 28, 10), "12月28日 周一 10:00", "Mon 28 Dec 10:00"),
             (datetime(2027, 1, 5, 10), "2027年1月5日 周二 10:00", "Tue 5 Jan 2027 10:00"),
             (datetime(2026, 11, 20, 10), "11月20日 周五 10:00", "Fri 20 Nov 10:00")]
    for when, zh, en in cases:
        assert when_text(when, "zh", thu) == zh and when_text(when, "en", thu) == en
    assert when_text(datetime(2026, 12, 1, 10), "zh", thu, relative=False) == "12月1日 周二 10:00"
    # English counts agree with their noun, in every template that counts something.
    from core.texts import t
    assert "(1 action)" in t("digest_yesterday", "en", total=1) and "(2 actions)" in t("digest_yesterday", "en", total=2)
    assert t("story_new", "en", n=1) == "1 new lead" and t("board_team_label", "en", n=1) == "Team total (1)"
    assert "1 person" in t("board_team_total", "en", share=1, points=1, target=1, deals=0, compliance="—", n=1)
    # Labels are shortened between words; the radar's English labels wrap instead of being cut.
    assert shorten("Globex Trading Company Ltd", 18) == "Globex Trading…"
    for d in load_config().dimensions:
        label = d.name_en or d.name
        assert wrap_label(label, 12).replace("\n", " ") == label and all(len(x) <= 13 for x in wrap_label(label, 12).split("\n"))


def _labels(message) -> list[str]:
    return [b["text"] for b in buttons(message)]


async def test_quick_update_gate_before_preview_fill_in_place_saved_summary_and_undo(harness):
    await _gate_and_undo(harness)


async def test_gate_and_undo_on_postgresql(harness_pg):
    await _gate_and_undo(harness_pg)


async def _gate_and_undo(h):
    from datetime import timedelta

    from sqlmodel import select

    from storage.models import Activity, Customer, PointsEntry, StageChange, Task
    _, _, (rep,) = await h.team(reps=1)
    await add_customer(h, rep, "张总", "华东精密机械有限公司", "13800138000")
    preview = (await h.send(rep, "张总 已报价5万 下周二回访"))[-1]
    # The gate is checked before anything is promised: no "确认保存", the missing fields are offered.
    assert "⛔ 推进到「方案报价」前需补全：联系人、行业、主营产品、规模、预算" in preview["text"], preview["text"]
    assert "阶段 → 方案报价" not in preview["text"] and not any("确认保存" in x for x in _labels(preview))
    assert all(len(row) <= 3 for row in preview["reply_markup"]["inline_keyboard"])
    values = {"联系人": "张伟", "行业": "机械制造", "主营产品": "数控机床", "规模": "200人", "预算": "60万"}
    while any("填写" in x for x in _labels(preview)):
        label = next(x for x in _labels(preview) if "填写" in x)
        asked = await h.press(rep, preview, text=label)
        assert "请输入" in asked[-1]["text"]
        answered = await h.send(rep, values[label.replace("✏️ 填写", "")])
        assert "继续确认刚才的更新" in answered[0]["text"], answered
        preview = answered[-1]
    assert "阶段 → 方案报价" in preview["text"] and "⛔" not in preview["text"]
    saved = (await h.press(rep, preview, text="确认保存"))[-1]
    assert "✅ 已保存 张总：金额 50,000 · 下次跟进 下周二 10:00 · 阶段 → 方案报价 · 跟进记录" in saved["text"], saved["text"]
    assert "↩️ 撤销" in _labels(saved)

    def state(s):
        c = s.exec(select(Customer)).one()
        points = sum(p.points for p in s.exec(select(PointsEntry)) if p.status in ("awarded", "reversal"))
        return (c.stage, c.amount, c.next_followup_at, len(s.exec(select(StageChange)).all()),
                len(s.exec(select(Task)).all()), len([a for a in s.exec(select(Activity)) if a.kind == "followup"]), points)
    moved = await h.core.db.run(state)
    assert moved[0] == "quote" and moved[1] == 50000 and moved[3] == 4  # created + three moves
    # Undo within 10 minutes: stage, amount, follow-up, the rows it added and its points all go back.
    h.clock.set(h.clock.now() + timedelta(minutes=9))
    undone = (await h.press(rep, saved, text="撤销"))[-1]
    assert "↩️ 已撤销对 张总 的更新" in undone["text"] and "↩️ 撤销" not in _labels(undone)
    stage, amount, next_at, changes, tasks, followups, points = await h.core.db.run(state)
    assert (stage, amount, next_at, changes, tasks, followups) == ("lead", None, None, 1, 0, 0), (stage, amount, next_at)
    assert points < moved[6]
    from storage.models import FieldHistory
    assert not await h.core.db.run(lambda s: s.exec(select(FieldHistory).where(FieldHistory.field == "amount")).all())
    assert (await h.core.db.run(lambda s: s.exec(select(Customer)).one())).contact == "张伟"  # filled by hand: kept
    # Twice is once: the old button now answers with a popup.
    await h.press(rep, saved, data=button_data(saved, "撤销"), validate=False)  # a stale copy of the button
    answers = [r for r in h.tg.requests if r["method"].lower() == "answercallbackquery"]
    assert answers[-1]["params"].get("show_alert") and "已经撤销过" in answers[-1]["params"]["text"]
    assert h.tg.rejected() == []


async def test_stage_move_undo_is_stale_after_ten_minutes_and_card_layout(harness):
    from datetime import timedelta
    h = harness
    _, _, (rep,) = await h.team(reps=1)
    created = await add_customer(h, rep, "Globex Trading Company Ltd", "Globex Trading Company Ltd", "+86 138-0013-8000")
    listing = (await h.send(rep, "/customers"))[-1]
    assert "Globex Trading Company Ltd · Globex Trading Company Ltd" in listing["text"]  # names in text are not cut
    assert all(not b["text"].endswith(("C…", "Compan…")) for b in buttons(listing))
    card = (await h.press(rep, created[-1], text="Globex"))[-1]
    rows = card["reply_markup"]["inline_keyboard"]
    assert len(rows) == 2 and all(len(row) <= 3 for row in rows)
    assert [b["text"] for b in rows[0]] == ["✅ 核实联系人与电话", "📝 记跟进", "⏭ 下一阶段"]
    assert not any("丢单" in x or "话术" in x or "稍后" in x for x in _labels(card))
    # The phone is plain digits in the text, outside any code entity: clients make it tappable.
    assert "📞 +8613800138000" in card["text"]
    start = card["text"].index("+8613800138000")
    assert card.get("entities")  # the card has entities (bold name): none of them covers the phone
    assert not [e for e in card.get("entities", []) if e["type"] in ("code", "pre", "text_link")
                and e["offset"] <= start < e["offset"] + e["length"]]
    # 「更多」: the rest, and the lost exit asks first.
    more = (await h.press(rep, card, text="更多"))[-1]
    assert {"📄 话术", "⏰ 稍后提醒", "❌ 丢单"} <= set(_labels(more))
    confirm = (await h.press(rep, more, text="丢单"))[-1]
    assert "确定把" in confirm["text"] and "确认丢单" in _labels(confirm)
    card = (await h.press(rep, confirm, text="返回"))[-1]
    moved = (await h.press(rep, card, text="下一阶段"))[-1]
    assert "已进入「初次接触」" in moved["text"] and "↩️ 撤销" in _labels(moved)
    h.clock.set(h.clock.now() + timedelta(minutes=11))
    await h.press(rep, moved, text="撤销")
    answers = [r for r in h.tg.requests if r["method"].lower() == "answercallbackquery"]
    assert answers[-1]["params"].get("show_alert") and "10 分钟" in answers[-1]["params"]["text"]
    from sqlmodel import select

    from storage.models import Customer
    assert await h.core.db.run(lambda s: s.exec(select(Customer)).one().stage) == "contact"
    assert h.tg.rejected() == []


async def test_manager_digest_in_sentences_small_team_board_and_duplicate_merge(harness):
    from sqlmodel import select

    from storage.models import Activity, Customer
    h = harness
    _, manager, (li, chen) = await h.team(reps=2)
    # Wednesday 25 Nov (yesterday for Thursday's digest): two leads, one moved, one lost.
    h.clock.set(datetime(2026, 11, 25, 2, 0))
    created = await add_customer(h, li, "张总", "华东精密机械集团有限公司", "13800138000")
    await add_customer(h, chen, "刘老师", "智学教育科技有限公司", "13900139000")
    card = (await h.press(li, created[-1], text="张总"))[-1]
    card = (await h.press(li, card, text="核实联系人与电话"))[-1]
    card = (await h.press(li, card, text="下一阶段"))[-1]
    listing = await h.send(chen, "/customers")
    card = (await h.press(chen, listing[-1], text="刘老师"))[-1]
    more = (await h.press(chen, card, text="更多"))[-1]
    ask = (await h.press(chen, more, text="丢单"))[-1]
    await h.press(chen, ask, text="确认丢单")
    # Chen goes after Li's customer through a subsidiary: the manager's alert carries all three decisions.
    dup = await add_customer(h, chen, "孙经理", "华东精密机械(苏州)分公司", "13700137000", "外呼名单")
    assert "已存在" in dup[-1]["text"]
    await h.drain()
    alert = [m for m in h.chat_messages(manager) if "重复客户" in (m.get("text") or "")][-1]
    assert [b["text"] for b in buttons(alert)] == ["保持原负责人", "转给 销售2", "合并资料"]
    merged = (await h.press(manager, alert, text="合并资料"))[-1]
    assert "仍由 销售1 负责" in merged["text"] and "补充了 联系人" in merged["text"], merged["text"]
    c = await h.core.db.run(lambda s: s.exec(select(Customer).where(Customer.name == "张总")).one())
    assert c.contact == "孙经理" and c.owner_id is not None and c.phone == "13800138000"
    notes = await h.core.db.run(lambda s: [a.text for a in s.exec(select(Activity).where(
        Activity.customer_id == c.id, Activity.kind == "note"))])
    assert any("13700137000" in n for n in notes)
    # Thursday 08:15: the digest starts with plain sentences, then the numbers, then a legend.
    await h.run_schedule(datetime(2026, 11, 26, 0, 16))
    digest = [m for m in h.chat_messages(manager) if "团队日报" in (m.get("text") or "")][-1]["text"]
    lines = digest.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("昨天"))
    assert lines[first] == "昨天 2 个新线索，1 个推进到初次接触，1 个丢单。", lines[first]
    assert first < next(i for i, line in enumerate(lines) if line.startswith("漏斗"))
    assert "• 线索获取：现有" in digest and "｜" not in digest.split("漏斗")[1].split("\n\n")[0]
    assert "「其他」=" in digest and "落后：无人明显落后" in digest  # two reps: nobody is singled out as lowest
    assert "最低" not in digest
    # A team of two: the group sees the team's total, not a lone name.
    group = h.tg.add_group("销售一部群", member_ids=[manager["id"], li["id"], chen["id"]])
    await h.send(manager, "/bind", chat_id=group["id"])
    await h.run_schedule(datetime(2026, 11, 26, 10, 1))
    post = [m for m in h.tg.sent(group["id"]) if m.get("kind") == "photo"][-1]
    assert "团队合计（2 人）" in post["caption"] and "销售1" not in post["caption"] and "销售2" not in post["caption"]
    asked = (await h.send(manager, "/board", chat_id=group["id"]))[-1]
    assert "团队合计（2 人）" in (asked.get("caption") or "")
    assert h.tg.rejected() == []
