"""Issue 13 item 7: close probability and contact time, made honest.

* the priors are the playbook's; one feature definition for training rows and the card, point in
  time (no final completeness);
* on histories from a latent process that does not use the model's features, the fitted model
  beats the prior and the base rate on a time split, and a variant trained on final completeness
  looks better in-sample but worse on the time split;
* the card says what the estimate rests on; the best contact time follows its rules.
"""
from datetime import datetime, time, timedelta

import pytest
from sqlmodel import select

from nlp.close_sim import generate_histories
from nlp.contact_time import HALF_LIFE_DAYS, best_contact_time
from nlp.predict import (DEFAULT_STAGES, NEUTRAL_INTENT, CloseModel, StagePrior, evaluate_time_split,
                         funnel_priors)
from storage.models import IntentRecord

NOW = datetime(2026, 11, 26, 12, 0)


# ------------------------------------------------------------------------------ priors
def test_built_in_priors_are_the_shipped_playbook(config):
    shipped = tuple((s.name, s.expected_days, s.close_prior) for s in config.stages)
    assert shipped == DEFAULT_STAGES
    assert StagePrior.from_config(config) == StagePrior()


def test_prior_follows_the_playbooks_own_stages():
    from types import SimpleNamespace
    stages = [SimpleNamespace(name=n, close_prior=p, expected_days=5)
              for n, p in (("线索", 0.05), ("试听", None), ("报价", 0.45), ("签约", None))]
    prior = StagePrior.from_config(SimpleNamespace(stages=stages))
    assert len(prior.base) == 4 and prior.names == ("线索", "试听", "报价", "签约")
    assert prior.base[0] == 0.05 and prior.base[2] == 0.45          # configured values are kept
    assert 0.05 < prior.base[1] < 0.45                               # unset: between its neighbours
    assert prior.base[3] > 0.45                                      # unset last stage: above the one before
    five = funnel_priors([None] * 5)                                 # nothing configured: the funnel over 5
    assert list(five) == sorted(five) and five[0] == pytest.approx(0.02) and five[-1] == pytest.approx(0.9)


def test_unset_close_prior_stays_unset_in_the_config(config):
    data = config.model_dump(mode="json", exclude_none=True)
    data["stages"][1].pop("close_prior")
    from core.config import Config
    again = Config.model_validate(data)
    assert again.stages[1].close_prior is None
    assert 0.02 < StagePrior.from_config(again).base[1] < 0.08


# ----------------------------------------------------------- simulated, independent process
@pytest.mark.parametrize("seed", [3, 11])
def test_fitted_model_beats_prior_and_base_rate_and_leakage_does_not_pay(seed):
    honest_rows = generate_histories(300, seed=seed)
    leak_rows = generate_histories(300, seed=seed, leak_final_completeness=True)
    assert [(r["deal_id"], r["as_of"]) for r in honest_rows] == [(r["deal_id"], r["as_of"]) for r in leak_rows]
    honest = evaluate_time_split(honest_rows)
    assert not honest["uses_prior"] and honest["n_train"] > 300 and honest["n_test"] > 100
    assert honest["brier"] < honest["brier_prior"]
    assert honest["brier"] < honest["brier_base_rate"]
    assert honest["calibration_error"] < honest["calibration_error_prior"]
    # Trained on what was known only at the end: better on its own rows, worse when served the
    # values the card actually has on each day.
    leak = evaluate_time_split(leak_rows, serving_rows=honest_rows)
    assert leak["brier_in_sample"] < honest["brier_in_sample"]
    assert leak["brier"] > honest["brier"]


def test_simulator_does_not_use_the_models_features():
    import inspect

    import nlp.close_sim as sim
    source = inspect.getsource(sim)
    for name in ("_inputs", "CloseModel", "StagePrior", "log_odds", "_describe"):
        assert name not in source


# -------------------------------------------------------------------- database: one definition
def _team(core):
    from services import users as us

    def setup(session):
        now = core.clock.now()
        admin = us.add_admin(session, 1, "Ada", core.config.team.name, core.config.team.timezone, now)
        code = us.create_invite(session, admin, now, 72).code
        return us.redeem_invite(session, code, 100, "小李", None, "zh", now).user
    return core.db.call(setup)


CHAT = ("王经理 2026-09-02 14:20\n你好，报价收到了，我们下周开会讨论一下预算\n"
        "小李 2026-09-02 14:25\n好的，需要我准备什么资料吗\n"
        "王经理 2026-09-03 10:05\n把案例发我一下，价格能不能再优惠点，我们想尽快定下来")


def test_training_rows_and_the_card_share_one_point_in_time_definition(core):
    from services import customers as cs
    from services import intel
    rep = _team(core)
    t0 = datetime(2026, 9, 1, 2, 0)

    def at(days):
        core.clock.set(t0 + timedelta(days=days))
        return core.clock.now()

    at(0)
    customer = core.db.call(cs.create_customer, core.config, rep.team_id, {"name": "华东精密", "phone": "13800138000"},
                            core.clock.now(), actor=rep, owner_id=rep.id).customer
    core.db.call(lambda s: cs.log_followup(s, core.config, rep, s.get(type(customer), customer.id), "电话沟通", at(2)))
    analysis, transcript = intel.read(CHAT, ["小李"], {})
    at(3)
    core.db.call(intel.record_analysis, core, rep, customer.id, analysis, transcript)
    core.db.call(lambda s: cs.set_field(s, core.config, rep, s.get(type(customer), customer.id), "source", "官网", at(5)))
    # After the day-14 snapshot: a field, a chat and a follow-up that the day-14 row must not see.
    core.db.call(lambda s: cs.set_field(s, core.config, rep, s.get(type(customer), customer.id), "company", "华东精密机械", at(18)))
    core.db.call(intel.record_analysis, core, rep, customer.id, analysis, transcript)
    core.db.call(lambda s: cs.log_followup(s, core.config, rep, s.get(type(customer), customer.id), "拜访", at(19)))

    rows = core.db.call(intel.training_rows, core.config, rep.team_id, t0 + timedelta(days=60))
    assert rows == []                                   # no closed deal in the team yet: nothing to learn
    close_other = _closed_deal(core, rep, t0)
    rows = {r["as_of"]: r for r in core.db.call(intel.training_rows, core.config, rep.team_id, t0 + timedelta(days=60))
            if r["deal_id"] == customer.id}
    day14, day21 = rows[t0 + timedelta(days=14)], rows[t0 + timedelta(days=21)]
    assert close_other is not None
    served = core.db.call(lambda s: intel.customer_features(s, core.config, s.get(type(customer), customer.id),
                                                            t0 + timedelta(days=14)))
    assert served == {k: v for k, v in day14.items() if k not in ("won_14d", "deal_id", "outcome", "as_of")}
    wanted = len(intel.wanted_fields(core.config))
    assert day14["completeness"] == pytest.approx(3 / wanted)        # name, phone, source — not company yet
    assert day21["completeness"] == pytest.approx(4 / wanted)
    final = core.db.call(lambda s: s.get(type(customer), customer.id).completeness)
    assert day14["completeness"] != pytest.approx(final / 100)
    assert day14["intent_missing"] == 0 and day14["intent_trend"] == 0    # one chat by day 14
    assert day14["days_since_last_followup"] == pytest.approx(12)
    assert day21["followups_last_14d"] == 1 and day21["days_since_last_followup"] == pytest.approx(2)
    assert rows[t0]["intent_missing"] == 1 and rows[t0]["intent_last"] == NEUTRAL_INTENT


def _closed_deal(core, rep, t0):
    from services import customers as cs

    def run(session):
        created = cs.create_customer(session, core.config, rep.team_id, {"name": "西北重工", "phone": "13900139000"},
                                     t0, actor=rep, owner_id=rep.id).customer
        cs.close_lost(session, rep, created, t0 + timedelta(days=10), "price")
        return created.id
    return core.db.call(run)


# ---------------------------------------------------------------------------------- the card
def _estimate(basis, probability, won=0, lost=0):
    from services.intel import CloseEstimate
    return CloseEstimate(probability, basis, won, lost, [], need=15)


def _card(close, best=None):
    from services.brief import CardView
    return CardView(customer=None, stage=None, days_in_stage=0, late=False, items=[], eta=None,
                    close=close, best_time=best)


def test_card_states_the_basis_of_the_estimate():
    from handlers.views import close_text
    prior = close_text(_card(_estimate("prior", 0.18)), "zh")
    assert "阶段经验值，尚无本团队数据" in prior and "约两成" in prior and "%" not in prior
    assert "no team data yet" in close_text(_card(_estimate("prior", 0.18)), "en")
    assert "很低" in close_text(_card(_estimate("prior", 0.02)), "zh")
    assert "约一成" in close_text(_card(_estimate("prior", 0.08)), "zh")
    assert "about 10%" in close_text(_card(_estimate("prior", 0.08)), "en")
    some = close_text(_card(_estimate("prior", 0.18, won=4, lost=9)), "zh")
    assert "阶段经验值" in some and "本团队仅 4 个成交/9 个丢单，各需 15 个" in some and "%" not in some
    team = close_text(_card(_estimate("team", 0.234, won=18, lost=21)), "zh")
    assert "23%" in team and "基于本团队 18 个成交/21 个丢单" in team
    assert close_text(_card(None), "zh") == ""


def test_card_on_a_new_team_shows_the_stage_rule_not_a_percentage(core):
    from handlers.views import close_text
    from services import customers as cs
    from services import intel
    from services.brief import card_view
    rep = _team(core)
    customer = core.db.call(cs.create_customer, core.config, rep.team_id, {"name": "东方物流", "phone": "13700137000"},
                            core.clock.now(), actor=rep, owner_id=rep.id).customer

    def view(session):
        c = session.get(type(customer), customer.id)
        v = card_view(session, core.config, c, core.clock.now())
        v.close = intel.close_probability(session, core.config, c, core.clock.now())
        v.best_time = intel.best_time(session, core.config, c, core.clock.now())
        return v
    shown = core.db.call(view)
    assert shown.close.basis == "prior" and shown.close.won == 0
    assert shown.close.probability == pytest.approx(StagePrior.from_config(core.config).base[0], rel=0.01)
    assert "阶段经验值，尚无本团队数据" in close_text(shown, "zh") and shown.best_time is None


# ------------------------------------------------------------------------------ contact time
def _days(n, hour, minute=0, ago=0):
    return [NOW - timedelta(days=ago + d, hours=NOW.hour - hour, minutes=-minute) for d in range(n)]


def test_contact_time_has_minute_resolution():
    replies = [r + timedelta(minutes=m) for r, m in zip(_days(6, 14, 25), (0, 5, 10, -3, 8, 2))]
    found = best_contact_time(replies, NOW)
    assert found is not None and found.at == time(14, 30) and found.text() == "14:30"
    assert best_contact_time(replies, NOW, step_minutes=15).at == time(14, 30)


def test_contact_time_weights_recent_replies():
    old_habit = _days(8, 10, ago=200)                 # many replies, long ago
    new_habit = _days(5, 15, ago=1)
    assert best_contact_time(old_habit + new_habit, NOW).at == time(15, 0)
    # Unweighted (an infinite half-life) the old habit would win: the weighting is what decides.
    assert best_contact_time(old_habit + new_habit, NOW, half_life_days=1e9).at == time(10, 0)
    assert HALF_LIFE_DAYS == 30


def test_contact_time_needs_enough_replies_on_enough_days():
    one_evening = [NOW - timedelta(days=1, minutes=m) for m in range(0, 50, 5)]    # 10 replies, one day
    assert best_contact_time(one_evening, NOW) is None
    assert best_contact_time(_days(4, 11), NOW) is None                           # 4 replies on 4 days
    assert best_contact_time(_days(3, 11) + _days(2, 11, 10), NOW) is not None    # 5 on 3 days
    assert best_contact_time(_days(5, 11), NOW, min_replies=6) is None


def test_contact_time_stays_in_working_hours():
    assert best_contact_time(_days(6, 22), NOW) is None                            # only replies at night
    late = best_contact_time(_days(6, 17, 55), NOW)                                # just before closing
    assert late is not None and late.at == time(17, 30)
    assert best_contact_time(_days(6, 8, 0), NOW, work_start=time(8), work_end=time(17)).at == time(8, 0)
    assert best_contact_time(_days(6, 8, 0), NOW, work_start=time(10), work_end=time(17)) is None
    future = [NOW + timedelta(days=d) for d in range(1, 7)]                        # not replies yet
    assert best_contact_time(future, NOW) is None


def test_appointment_times_in_call_notes_are_not_reply_times(core):
    from services import customers as cs
    from services import intel
    rep = _team(core)
    customer = core.db.call(cs.create_customer, core.config, rep.team_id, {"name": "南方建材", "phone": "13600136000"},
                            core.clock.now(), actor=rep, owner_id=rep.id).customer
    for day in range(6):
        note, notes = intel.read(f"今天给王经理打电话，他说预算还没批下来，约了周三 15:00 再聊，他说想先看看案例{day}", ["小李"], {})
        assert note.format == "call_notes" and note.reply_hours       # the parser did see a time …
        core.db.call(intel.record_analysis, core, rep, customer.id, note, notes)
    assert core.db.call(lambda s: intel.reply_times(s, core.config, s.get(type(customer), customer.id))) == []
    analysis, transcript = intel.read(CHAT, ["小李"], {})
    core.db.call(intel.record_analysis, core, rep, customer.id, analysis, transcript)
    stamps = core.db.call(lambda s: intel.reply_times(s, core.config, s.get(type(customer), customer.id)))
    assert stamps == [datetime(2026, 9, 2, 14, 20), datetime(2026, 9, 3, 10, 5)]    # the customer's messages only
    hours = core.db.call(lambda s: [r.reply_hours for r in s.exec(select(IntentRecord).order_by(IntentRecord.id))])
    assert hours[:6] == [[]] * 6 and hours[6] == [14, 10]             # legacy hours: chats only, too


def test_business_chat_messages_are_reply_times_in_team_time(core):
    from services import customers as cs
    from services import intel
    from storage.models_business import BusinessChat, BusinessLink, BusinessMessage
    rep = _team(core)
    customer = core.db.call(cs.create_customer, core.config, rep.team_id, {"name": "北方医械", "phone": "13500135000"},
                            core.clock.now(), actor=rep, owner_id=rep.id).customer

    def seed(session):
        now = core.clock.now()
        session.add(BusinessLink(connection_id="bc1", user_id=rep.id, consent="granted", created_at=now))
        session.flush()
        session.add(BusinessChat(connection_id="bc1", chat_id=555, customer_id=customer.id, title="北方医械"))
        session.flush()
        for day in (20, 21, 23, 24, 25):              # the customer writes at 03:10 UTC = 11:10 Shanghai
            session.add(BusinessMessage(connection_id="bc1", chat_id=555, from_rep=False, sender="刘主任", text="好的",
                                        at=datetime(2026, 11, day, 3, 10)))
            session.add(BusinessMessage(connection_id="bc1", chat_id=555, from_rep=True, sender="小李", text="收到",
                                        at=datetime(2026, 11, day, 8, 0)))
        c = session.get(type(customer), customer.id)
        c.intent_score, c.intent_level = 60, "medium"
        session.add(c)
    core.db.call(seed)
    stamps = core.db.call(lambda s: intel.reply_times(s, core.config, s.get(type(customer), customer.id)))
    assert stamps == [datetime(2026, 11, d, 11, 10) for d in (20, 21, 23, 24, 25)]   # the rep's messages are not
    found = core.db.call(lambda s: intel.best_time(s, core.config, s.get(type(customer), customer.id), core.clock.now()))
    assert found is not None and found.text() == "11:00" and (found.replies, found.days) == (5, 5)


def test_working_hours_are_configured_and_checked(config):
    from core.config import ScheduleSettings
    assert (config.schedule.work_start, config.schedule.work_end) == ("09:00", "18:00")
    with pytest.raises(ValueError):
        ScheduleSettings(work_start="09:00", work_end="09:00")
    with pytest.raises(ValueError):
        ScheduleSettings(work_start="9h", work_end="18:00")
    night = ScheduleSettings(work_start="20:00", work_end="02:00")
    late = [NOW.replace(hour=23, minute=40) - timedelta(days=d) for d in range(1, 6)]
    from core.config import parse_hhmm
    found = best_contact_time(late, NOW, work_start=parse_hhmm(night.work_start), work_end=parse_hhmm(night.work_end))
    assert found is not None and found.at == time(23, 30)


def test_visit_slots_follow_the_configured_working_hours(config):
    from services.visits import visit_hours
    assert visit_hours(config) == (9, 18)
    later = config.model_copy(update={"schedule": config.schedule.model_copy(update={"work_start": "10:30",
                                                                                     "work_end": "19:00"})})
    assert visit_hours(later) == (11, 19)
