"""A rep's change racing the hand-over of their customer (issue 11, failure 5).

The rep's transaction has already found the customer visible (``get_for``, as the handlers do)
when a manager hands it to a colleague and commits; the rep's change then takes the row lock.
It must find the customer gone and write nothing — visibility is checked again under the lock.
On PostgreSQL (READ COMMITTED) this is the real interleaving; SQLite serializes write
transactions, so there the hand-over simply comes first and the same assertions pin the outcome.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import select

from services import customers as cs
from services import team as team_svc
from storage.models import Activity, ChecklistDone, Customer, FieldHistory, StageChange, Task
from tests.test_services import create, team_with

OPERATIONS = {
    "followup": lambda core, u, c: cs.log_followup(core_session(c), core.config, u, c, "电话沟通", core.clock.now(),
                                                   core.clock.now().replace(hour=3)),
    "field": lambda core, u, c: cs.set_field(core_session(c), core.config, u, c, "industry", "机械制造", core.clock.now()),
    "checklist": lambda core, u, c: cs.complete_item(core_session(c), core.config, u, c, "tag_source", core.clock.now()),
    "stage": lambda core, u, c: cs.advance_stage(core_session(c), core.config, u, c, core.clock.now()),
    "lost": lambda core, u, c: cs.close_lost(core_session(c), u, c, core.clock.now()),
}


def core_session(obj):
    from sqlalchemy.orm import object_session
    return object_session(obj)


def race_handover(core, rep, manager, colleague, customer_id, operation):
    """The rep's change (loaded first) against the manager's hand-over; returns the rep's outcome."""
    loaded, handing = threading.Event(), threading.Event()
    pg = not core.db.is_sqlite

    def rep_work(session):
        customer = cs.get_for(session, rep, customer_id)
        if not pg:  # the hand-over came first: the handler's own check refuses
            return "refused" if customer is None else "written"
        assert customer is not None  # visible when the rep's transaction looked
        if pg:
            loaded.set()
            handing.wait(20)
            time.sleep(0.2)  # the hand-over holds the row lock now: the change below waits for it
        try:
            OPERATIONS[operation](core, rep, customer)
            return "written"
        except cs.NotVisible:
            return "refused"

    def manager_work(session):
        if pg:
            loaded.wait(20)
        team_svc.hand_over_customers(session, core, manager, rep.id, [customer_id], colleague.id)
        handing.set()
        if pg:
            time.sleep(0.4)  # still uncommitted while the rep's change queues on the lock

    if not pg:
        core.db.call(manager_work)
        return core.db.call(rep_work)
    with ThreadPoolExecutor(max_workers=2) as pool:
        rep_f = pool.submit(core.db.call, rep_work)
        mgr_f = pool.submit(core.db.call, manager_work)
        mgr_f.result()
        return rep_f.result()


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_change_while_the_customer_is_being_handed_over_writes_nothing(core, operation):
    _, mgr, rep, colleague = team_with(core)
    c = create(core, rep, name="张总", phone="13800138000", source="官网表单", company="华东精密机械有限公司",
               contact="张伟").customer
    before = core.db.call(lambda s: {m.__name__: len(list(s.exec(select(m).where(m.customer_id == c.id))))
                                     for m in (Activity, ChecklistDone, StageChange, FieldHistory, Task)})
    outcome = race_handover(core, rep, mgr, colleague, c.id, operation)
    assert outcome == "refused"
    after = core.db.call(lambda s: {m.__name__: len(list(s.exec(select(m).where(m.customer_id == c.id))))
                                    for m in (Activity, ChecklistDone, StageChange, FieldHistory, Task)})
    assert after["Activity"] == before["Activity"] + 1  # only the hand-over's own "transfer"
    assert {k: v for k, v in after.items() if k != "Activity"} == {k: v for k, v in before.items() if k != "Activity"}
    cust = core.db.call(lambda s: s.get(Customer, c.id))
    assert cust.owner_id == colleague.id and cust.status == "open" and cust.stage == "lead"
    assert cust.previous_owner_id == rep.id


def test_two_managers_offboarding_one_rep_at_once_hand_over_once(core):
    """An admin and the manager press 确认 together with different recipients: one hand-over wins,
    the other is refused (``deactivated``), and every customer moved exactly once."""
    admin, mgr, rep, colleague = team_with(core)
    for i in range(3):
        create(core, rep, name=f"客户{i}", phone=f"1380013800{i}", source="官网表单")
    from tests.test_races import at_once

    def offboard(actor, plan):
        def work(session):
            try:
                return team_svc.deactivate(session, core, actor, rep.id, plan).customer_count
            except team_svc.TeamError as exc:
                return exc.reason
        return work
    results = at_once(core, offboard(mgr, team_svc.Handover("colleague", [colleague.id])),
                      offboard(admin, team_svc.Handover("pool")))
    assert sorted(map(str, results)) == ["3", "deactivated"], results
    owners = core.db.call(lambda s: {c.owner_id for c in s.exec(select(Customer))})
    assert owners in ({colleague.id}, {None})
    transfers = core.db.call(lambda s: list(s.exec(select(Activity).where(Activity.kind == "transfer"))))
    assert len(transfers) == 3
