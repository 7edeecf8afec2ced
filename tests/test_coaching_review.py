"""The weekly 复盘's figures against an independent recomputation (issue 16).

A seeded history is written through the same service calls the bot uses (create, complete a
step, advance, close as lost with a reason, flag a step); the test keeps its own ledger of what it
did and recomputes every figure from that ledger with plain Python — never from the database.
Runs on SQLite and on PostgreSQL.
"""
from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

from services import customers as cs
from services import lost as lost_svc
from services import review as review_svc
from services import review_text
from services import sop_feedback as fb_svc
from tests.test_services import team_with

LEAD_ITEMS = ("verify_contact", "tag_source")
DONE_P = {"advance": (0.8, 0.6), "lost": (0.3, 0.5), "stall": (0.2, 0.2), "fresh": (0.5, 0.5), "old": (0.5, 0.5)}


def seed_history(core, rng: random.Random):
    _, _, rep = team_with(core, reps=1)
    t0 = core.clock.now()
    config = core.config
    ledger = {"fate": {}, "done": set(), "lost": {}, "flags": []}
    reasons = [r.id for r in config.lost_reasons]

    def at(delta_days: float):
        return t0 + timedelta(days=delta_days)

    fates = ["advance"] * 9 + ["lost"] * 8 + ["stall"] * 7 + ["fresh"] * 3 + ["old"] * 3
    rng.shuffle(fates)
    for n, fate in enumerate(fates):
        created = at(-1) if fate == "fresh" else at(-20) if fate == "old" else at(-10)
        result = core.db.call(
            cs.create_customer, config, rep.team_id,
            {"name": f"客户{n:02d}", "company": f"测试{n:02d}号有限公司", "phone": f"1380000{n:04d}", "source": "官网表单"},
            created, actor=rep, owner_id=rep.id)
        cid = result.customer.id
        ledger["fate"][cid] = fate
        for item, p in zip(LEAD_ITEMS, DONE_P[fate]):
            if rng.random() < p:
                assert core.db.call(lambda s: cs.complete_item(s, config, rep, s.get(cs.Customer, cid), item,
                                                               created + timedelta(hours=2))).status == "done"
                ledger["done"].add((cid, item))
        if fate in ("lost", "stall") and rng.random() < 0.6:
            item = rng.choice(LEAD_ITEMS)
            kind = rng.choice("umc")
            when = at(-8.5) if rng.random() < 0.25 else at(-5)     # some flags fall before the window
            fb = core.db.call(fb_svc.record, config, rep, cid, item, kind, when)
            note = rng.choice(["", "客户不接电话怎么办", "标注到哪里？"])
            if note:
                core.db.call(fb_svc.add_note, rep, fb.id, note)
            ledger["flags"].append((item, fb_svc.KINDS[kind], note, when))
        if fate == "advance":
            assert core.db.call(lambda s: cs.advance_stage(s, config, rep, s.get(cs.Customer, cid), at(-3))).status == "moved"
        elif fate == "old":
            assert core.db.call(lambda s: cs.advance_stage(s, config, rep, s.get(cs.Customer, cid), at(-12))).status == "moved"
        elif fate == "lost":
            core.db.call(lambda s: cs.close_lost(s, rep, s.get(cs.Customer, cid), at(-2)))
            reason = rng.choice(reasons + [None])
            competitor = rng.choice(["", "xiaoyun", "kingsoft_crm"])
            if reason:
                core.db.call(lost_svc.set_reason, config, rep, cid, reason, at(-2))
            if competitor:
                core.db.call(lost_svc.set_competitor, config, rep, cid, competitor, at(-2))
            ledger["lost"][cid] = (reason or review_svc.UNSPECIFIED, competitor)
    return ledger, rep


def test_review_figures_match_an_independent_recomputation(core):
    rng = random.Random(16)
    ledger, rep = seed_history(core, rng)
    review = core.db.call(review_svc.build, core.config, rep.team_id, core.clock.now())
    fate = ledger["fate"]
    by_fate = lambda *names: {c for c, f in fate.items() if f in names}  # noqa: E731
    # Steps: out of the lead stage, the advancing deals vs the lost and the stalled ones.
    adv, other = by_fate("advance"), by_fate("lost", "stall")
    expected = {("lead", item): (sum((c, item) in ledger["done"] for c in adv), len(adv),
                                 sum((c, item) in ledger["done"] for c in other), len(other)) for item in LEAD_ITEMS}
    # The "old" deals left lead before the window and now stall in the contact stage, no step done.
    old = by_fate("old")
    for item in core.config.stage("contact").checklist:
        expected[("contact", item.id)] = (0, 0, 0, len(old))
    got = {(s.stage, s.item): (s.adv_done, s.adv_n, s.other_done, s.other_n) for s in review.steps}
    assert got == expected
    # Feedback inside the window only, per step and kind, with the notes.
    window_start = core.clock.now() - timedelta(days=core.config.coaching.review_window_days)
    flags = [f for f in ledger["flags"] if f[3] >= window_start]
    assert len(flags) < len(ledger["flags"]), "the seed puts some flags before the window"
    expected_flags = Counter((item, kind) for item, kind, _, _ in flags)
    got_flags = Counter({(f.item, k): n for f in review.flags for k, n in f.kinds.items()})
    assert got_flags == expected_flags
    for f in review.flags:
        notes = {n for item, _, n, _ in flags if item == f.item and n}
        assert set(f.notes) <= notes and len(f.notes) == min(3, sum(1 for i, _, n, _ in flags if i == f.item and n))
    # Lost reasons by stage and by competitor.
    assert review.lost_total == len(ledger["lost"])
    assert review.lost_by_stage == Counter(("lead", reason) for reason, _ in ledger["lost"].values())
    assert review.lost_by_competitor == Counter((comp, reason) for reason, comp in ledger["lost"].values() if comp)
    # Stalled: the stalled lead deals and the old deals stuck in contact; not the fresh or advancing ones.
    assert {s.customer.id for s in review.stalls} == by_fate("stall", "old")
    # The message: every step line as counted, a caution where a group is smaller than min_sample,
    # and suggestions naming the config.toml key.
    text = review_text.render(core.config, review, "zh")
    assert len(text) <= 4096
    a, n, b, m = expected[("lead", "verify_contact")]
    assert f"线索获取·核实联系人与电话：推进 {a}/{n} · 未推进 {b}/{m}" in text
    contact_line = next(line for line in text.splitlines() if line.startswith("• 初次接触·首次电话"))
    assert "样本少于5" in contact_line          # 0 advancing deals: a caution, not a finding
    assert "[[stages]] id=" in text and "config.toml" in text
    top = max(expected_flags.values())
    if top >= 2:  # one kind of complaint on one step at least twice names the step's key
        assert "[[stages.checklist]] id=" in text


def test_review_of_an_empty_week_is_short_and_says_so(core):
    _, mgr, rep = team_with(core, reps=1)
    review = core.db.call(review_svc.build, core.config, rep.team_id, core.clock.now())
    text = review_text.render(core.config, review, "en")
    assert "no data this week" in text and "Nothing to suggest" in text
    assert review.steps == [] and review.flags == [] and review.lost_total == 0


def test_digest_escalations_in_sql_agree_with_the_card_rule(core):
    """The digest's set-based escalation query and the per-deal rule the card uses name the same deals."""
    from services import stalls as stall_svc
    ledger, rep = seed_history(core, random.Random(7))
    now = core.clock.now()
    by_rule = core.db.call(stall_svc.team_stalls, core.config, [rep.team_id], now)[rep.team_id]
    escalated = sorted((s for s in by_rule if s.escalated), key=lambda s: (s.customer.stage_entered_at, s.customer.id))
    assert escalated, "the seed has escalated deals"
    count, top = core.db.call(stall_svc.escalations, core.config, [rep.team_id], now, 5)[rep.team_id]
    assert count == len(escalated)
    assert {e.customer_id for e in top} <= {s.customer.id for s in escalated} and len(top) == min(5, count)
    idle = {s.customer.id: s.idle_days for s in escalated}
    assert all(e.idle_days == idle[e.customer_id] for e in top)
    assert [e.idle_days for e in top] == sorted((e.idle_days for e in top), reverse=True)
