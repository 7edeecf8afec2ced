"""Update ids claimed as a group commit (bot/dedupe.py): the updates that start together share one
transaction, each id is new exactly once (also twice in one group, and again later), and each
update gets its sender's member as the per-update claim loaded it."""
from __future__ import annotations

import asyncio

from sqlalchemy import func
from sqlmodel import select

from bot.dedupe import UpdateClaims
from storage.models import ProcessedUpdate
from tests.test_services import team_with


def test_claims_starting_together_share_one_transaction_and_each_id_is_new_once(core):
    admin, manager, rep, _ = team_with(core)
    claims = UpdateClaims(core)

    def args(user, name=None):  # services.users.member_for_update's arguments, as handlers.common.member_args
        return user.tg_id, name or user.name, None, "zh", True

    async def scenario():
        first = await asyncio.gather(claims.claim(1, args(rep)), claims.claim(2, args(manager)),
                                     claims.claim(3, None), claims.claim(2, args(manager)),
                                     claims.claim(4, (999_999, "陌生人", None, "zh", True)))
        after_first = dict(claims.stats)
        again = await asyncio.gather(claims.claim(1, args(rep)), claims.claim(5, args(rep, "销售改名")))
        return first, after_first, again

    first, after_first, again = asyncio.run(scenario())
    assert after_first == {"transactions": 1, "claims": 5}
    assert [new for new, _ in first] == [True, True, True, False, True]
    assert [m.id if m else None for _, m in first] == [rep.id, manager.id, None, None, None]  # 999999: a stranger
    assert [new for new, _ in again] == [False, True]
    assert again[1][1].name == "销售改名"  # the profile is refreshed as before
    assert core.db.call_read(lambda s: s.exec(select(func.count()).select_from(ProcessedUpdate)).one()) == 5
