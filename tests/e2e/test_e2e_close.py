"""The card's close estimate and best contact time through the real bot (issue 13, item 7)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from nlp.predict import MIN_LOST, MIN_WON
from storage.models import Customer, StageChange
from tests.e2e import test_e2e_navigation as navigation

# Five replies of 张总 on three days, mid-afternoon (Shanghai wall clock, as a WeChat paste shows).
CHAT = ("张总 2026-11-20 14:50\n你好，想了解一下你们的设备方案。\n"
        "李明 2026-11-20 14:52\n好的张总，我把资料发您。\n"
        "张总 2026-11-20 15:15\n资料收到了，我先看看。\n"
        "张总 2026-11-23 15:02\n方案我看了，价格有点贵。\n"
        "张总 2026-11-23 15:20\n那你们报价单发我，我再对比一下。\n"
        "张总 2026-11-25 15:40\n我们下周可以约个时间面谈。\n")


@pytest.fixture
def bot(harness_both):
    return harness_both


def _close_line(card_text: str) -> str:
    return next(line for line in card_text.splitlines() if "14天成交" in line)


async def test_card_shows_the_stage_rule_then_the_teams_own_figure(bot):
    h = bot
    _, _, (rep,) = await h.team(reps=1)
    await navigation.add_customer(h, rep, "张总", "华东精密机械有限公司", "13800138000")
    card = (await navigation.open_card(h, rep, "张总"))["text"]
    line = _close_line(card)
    assert "阶段经验值，尚无本团队数据" in line and "%" not in line, line
    assert "最佳联系时间" not in card                                     # no replies yet: no made-up time

    replies = await h.send(rep, CHAT)
    if "谁是客户" in replies[-1]["text"]:
        replies = await h.press(rep, replies[-1], text="张总")
    assert "购买意向" in replies[-1]["text"]
    card = (await navigation.open_card(h, rep, "张总"))["text"]
    assert "最佳联系时间：15:00 前后（客户 3 天里的 5 次回复）" in card, card

    # The team closes enough deals of its own: the next day's card gives the team's percentage.
    zhang = await h.core.db.run(lambda s: s.exec(select(Customer).where(Customer.name == "张总")).one())
    team_id, owner_id = zhang.team_id, zhang.owner_id
    start = datetime(2026, 6, 1)

    def deals(session):
        for i in range(MIN_WON + MIN_LOST):
            won = i < MIN_WON
            c = Customer(team_id=team_id, owner_id=owner_id, name=f"老客户{i}", stage="quote", status="won" if won else "lost",
                         stage_entered_at=start, created_at=start, updated_at=start, custom={})
            session.add(c)
            session.flush()
            session.add(StageChange(customer_id=c.id, to_stage="lead", at=start))
            session.add(StageChange(customer_id=c.id, from_stage="lead", to_stage="quote", at=start + timedelta(days=3)))
            session.add(StageChange(customer_id=c.id, from_stage="quote", to_stage="won" if won else "lost",
                                    at=start + timedelta(days=20 + i)))
    await h.core.db.run(deals)
    h.core.clock.set(h.core.clock.now() + timedelta(days=1))               # the team model is refitted daily
    line = _close_line((await navigation.open_card(h, rep, "张总"))["text"])
    assert f"基于本团队 {MIN_WON} 个成交/{MIN_LOST} 个丢单" in line, line
    assert re.search(r"14天成交概率 \d{1,3}%", line) and "阶段经验值" not in line
