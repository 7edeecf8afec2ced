"""Team boundaries end to end on PostgreSQL (issue 11): the same scenarios as test_e2e_team.py
and test_e2e_offboarding.py with a private schema, plus the real race through the bot — a rep's
follow-up arriving while their customer is being handed over."""
from __future__ import annotations

import asyncio
import threading

import pytest

from sqlmodel import select

from services import team as team_svc
from storage.models import Activity, Customer
from tests.e2e import test_e2e_offboarding as offboarding
from tests.e2e import test_e2e_team as team_e2e


SCENARIOS = [
    team_e2e.test_failure_1_another_teams_invite_neither_raises_nor_moves,
    team_e2e.test_failure_2_rep_in_another_team_cannot_open_old_customers,
    team_e2e.test_failure_3_cross_team_lookup_is_exact_only_and_leaks_nothing,
    team_e2e.test_failure_4_deactivated_rep_loses_access_at_once,
    team_e2e.test_failure_5_followup_after_handover_is_refused,
    offboarding.scenario_offboard_to_one_colleague,
    offboarding.scenario_split_and_pool,
    offboarding.scenario_reactivate_and_boundaries,
    team_e2e.test_audit_trail_in_the_bot,
    team_e2e.test_new_customer_held_by_another_team_tells_only_what_the_lookup_tells,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__.removeprefix("test_"))
async def test_scenario_pg(harness_pg, scenario):
    await scenario(harness_pg)


async def test_followup_while_the_customer_is_being_handed_over_pg(harness_pg):
    """The hand-over holds the customer's row lock, uncommitted, while the rep's follow-up reaches
    the bot: the follow-up (which found the customer visible before the lock) waits, then finds it
    gone and writes nothing."""
    h = harness_pg
    _, mgr, (li, chen) = await h.team(reps=2)
    await team_e2e.add_customer(h, li, "张总", "华东精密机械有限公司", "13800138000")
    card = await team_e2e.open_card(h, li, "张总")
    await h.press(li, card, text="记跟进")
    manager, li_row, chen_row = [await team_e2e.member(h, u) for u in (mgr, li, chen)]
    cid = await h.core.db.run(lambda s: s.exec(select(Customer.id)).one())
    holding, release = threading.Event(), threading.Event()

    def hand_over(session):
        team_svc.hand_over_customers(session, h.core, manager, li_row.id, [cid], chen_row.id)
        holding.set()
        release.wait(20)  # the row stays locked, the change uncommitted, until the follow-up queued

    loop = asyncio.get_running_loop()
    handing = loop.run_in_executor(None, h.core.db.call, hand_over)
    await loop.run_in_executor(None, holding.wait, 20)
    followup = asyncio.create_task(h.send(li, "客户说下周二再谈"))
    await asyncio.sleep(0.5)  # the bot's transaction reaches the customer's row lock and waits there
    assert not followup.done()
    release.set()
    await handing
    replies = await followup
    assert "找不到这个客户" in team_e2e.texts(replies)
    logged = await h.core.db.run(lambda s: list(s.exec(select(Activity).where(Activity.kind == "followup"))))
    assert logged == []
    assert (await h.core.db.run(lambda s: s.get(Customer, cid))).owner_id == chen_row.id
