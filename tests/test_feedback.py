"""The team teaches the reader (issue 13 item 6), on a real database through the real services.

A simulated team labels its cards by its own rule (bench/team_refit.team_label: stricter than the
shipped model's corpus); its labels on the earlier chats go through services.feedback.press, the
daily job refits, and on the team's LATER chats the team's model must beat the shipped one.
Another team's analyses stay exactly the shipped model's.
"""
from datetime import datetime, timedelta

from sqlmodel import select

from bench.team_refit import SPLIT, read, team_chats, team_label
from nlp import team_model
from scheduler.jobs import run_due_jobs
from services import digest
from services import feedback as fb
from services import intel
from services import users as us
from storage.models import IntentRecord
from storage.models_feedback import AnalysisSample, FeedbackLabel, TeamIntentModel
from tests.test_services import create, team_with


def second_team(core):
    def setup(session):
        now = core.clock.now()
        admin = us.get_user(session, 1)
        team = us.ensure_team(session, "华南团队", "Asia/Shanghai", now)
        inv = us.create_invite(session, admin, now, 72, "manager", team.id)
        mgr = us.redeem_invite(session, inv.code, 3, "赵经理", None, "zh", now).user
        code = us.create_invite(session, mgr, now, 72).code
        return mgr, us.redeem_invite(session, code, 300, "销售B", None, "zh", now).user
    return core.db.call(setup)


def record(core, user, customer_id, analysis):
    core.db.call(intel.record_analysis, core, user, customer_id, analysis)
    return analysis


def test_team_labels_refit_a_team_model_that_beats_the_shipped_one_on_later_chats(core):
    core.clock.set(datetime(2026, 11, 2, 2, 0))
    _, manager, rep, other_rep = team_with(core, reps=2)
    _, rep_b = second_team(core)
    mine = [create(core, rep, name=f"客户{i}", company=f"华东{i}号建材有限公司", phone=f"1380013{i:04d}", source="官网表单").customer
            for i in range(3)]
    theirs = create(core, rep_b, name="客户B", company="华南建材有限公司", phone="13900139000", source="官网表单").customer
    chats = [(r, read(r)) for r in team_chats()]
    chats = [(r, a) for r, a in chats if a is not None and a.kind == "sales"]
    cut = int(len(chats) * SPLIT)
    earlier, later = chats[:cut], chats[cut:]

    # The earlier chats: pasted, shown, labelled on the card (准 when the card was right, else the level).
    for i, (r, analysis) in enumerate(earlier):
        core.clock.set(datetime(2026, 11, 2, 2, 0) + timedelta(hours=i))
        record(core, rep, mine[i % 3].id, analysis)
        wanted = team_label(r)
        fb.press_in(core, rep, analysis.sample_id, "ok" if wanted == analysis.level else wanted)
    # A colleague of the same team who cannot see these customers cannot label them.
    try:
        core.db.call(fb.press, other_rep, earlier[0][1].sample_id, "high", core.clock.now())
        raise AssertionError("a rep labelled a card of a customer they cannot see")
    except fb.Stale:
        pass
    labels = core.db.call(lambda s: s.exec(select(FeedbackLabel)).all())
    assert len(labels) == len(earlier) and {lb.team_id for lb in labels} == {rep.team_id}
    assert {lb.user_id for lb in labels} == {rep.id}

    # The daily job (Asia/Shanghai 03:40) refits every team.
    at = datetime(2026, 11, 6, 19, 45)
    core.clock.set(at)
    done = run_due_jobs(core, at, only={"feedback_refit"})
    assert sorted(status for _, _, status in done) == ["done", "done"]
    models = {m.team_id: m for m in core.db.call(lambda s: s.exec(select(TeamIntentModel)).all())}
    assert models[rep.team_id].active and models[rep.team_id].labels == len(earlier)
    assert not models[rep_b.team_id].active, "a team without labels keeps the shipped model"

    # The later chats, read fresh and recorded for each team: team A gets its own model's level.
    targets, shipped_rows, team_levels, b_same = [], [], [], []
    for r, _ in later:
        a_analysis, b_analysis = read(r), read(r)
        shipped = (a_analysis.level, a_analysis.score)
        shipped_rows.append(getattr(a_analysis, fb.FEATURES_ATTR))
        record(core, rep, mine[0].id, a_analysis)
        record(core, rep_b, theirs.id, b_analysis)
        targets.append(team_label(r))
        team_levels.append(a_analysis.level)
        b_same.append((b_analysis.level, b_analysis.score) == shipped)
    before = team_model.shipped_accuracy(shipped_rows, targets)
    after = sum(lv == y for lv, y in zip(team_levels, targets)) / len(targets)
    assert after >= before + 0.2, (before, after)
    model = core.db.call(fb.team_model_for, rep.team_id)
    assert team_model.log_loss(model, shipped_rows, targets) < team_model.log_loss(None, shipped_rows, targets)
    assert all(b_same), "another team's analyses are the shipped model's, unchanged"

    # The manager's digest says how often the team agreed.
    agreement = core.db.call(fb.agreement_many, [rep.team_id, rep_b.team_id], core.clock.now())
    assert agreement[rep.team_id].labels == len(earlier) and agreement[rep_b.team_id].labels == 0
    assert abs(agreement[rep.team_id].rate - models[rep.team_id].shipped_acc) < 0.02
    # (the next morning's digest: yesterday had the later pastes, so it is a full digest)
    d = core.db.call(digest.build, core.config, rep.team_id, core.clock.now() + timedelta(days=1))
    text = digest.digest_text(core.config, d, "团队", "zh")
    assert f"团队标注 {len(earlier)} 次" in text and "团队专属模型已启用" in text


def test_too_few_labels_or_only_agreement_keep_the_shipped_model():
    rows = [{"p": 0.9, "lex": 0.8, "ship": "high", "objections": 0}] * 40
    assert team_model.refit(rows[:29], ["high"] * 29, [True] * 29).reason == "few_labels"
    assert team_model.refit(rows, ["high"] * 40, [True] * 40).reason == "one_class"


CHAT = ("销售0 2026-11-25 10:05\n张总您好，我们的系统两周免费试用，现在签还有优惠。\n"
        "张总 2026-11-25 10:09\n价格有点贵，我得跟老板汇报一下。\n"
        "销售0 2026-11-25 10:10\n明白，我把报价单发您。\n"
        "张总 2026-11-25 10:11\n如果合同能分期付款，下个月可以签。")


def test_an_objection_the_team_keeps_marking_wrong_is_no_longer_shown_to_it(core):
    core.clock.set(datetime(2026, 11, 2, 2, 0))
    _, _, rep = team_with(core, reps=1)
    _, rep_b = second_team(core)
    mine = create(core, rep, name="张总", company="华东精密机械有限公司", phone="13800138000", source="官网表单").customer
    theirs = create(core, rep_b, name="张总", company="华南精密机械有限公司", phone="13900139000", source="官网表单").customer

    def pasted(user, customer):
        analysis, _ = intel.read(CHAT, [user.name], {})
        record(core, user, customer.id, analysis)
        return analysis

    first = pasted(rep, mine)
    ids = [o.id for o in first.objections]
    assert len(ids) >= 2, ids
    wrong, right = ids[0], ids[1]
    for i in range(team_model.MIN_OBJECTION_VERDICTS):
        analysis = first if i == 0 else pasted(rep, mine)
        fb.press_in(core, rep, analysis.sample_id, f"o{ids.index(wrong)}n")
        fb.press_in(core, rep, analysis.sample_id, f"o{ids.index(right)}y")
    core.db.call(fb.refit_team, rep.team_id, core.clock.now())
    core.db.call(fb.refit_team, rep_b.team_id, core.clock.now())
    after = pasted(rep, mine)
    assert [o.id for o in after.objections] == [oid for oid in ids if oid != wrong]
    intent = core.db.call(lambda s: s.get(IntentRecord, s.get(AnalysisSample, after.sample_id).intent_id))
    assert wrong not in intent.objections, "the stored history agrees with the card"
    assert [o.id for o in pasted(rep_b, theirs).objections] == ids, "another team still sees it"
