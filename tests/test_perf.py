"""Query shapes at realistic scale: how many statements and rows an operation costs (counted, not
timed — speed figures live in the benches), and that nothing is capped (the 2,500th customer)."""
from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, insert
from sqlmodel import select

from bench.common import customer_names
from services import customers as cs
from services.company_names import company_core
from storage.models import Customer
from tests.test_services import team_with


@contextmanager
def counted(db):
    """Every SQL statement (transaction control aside) sent on the database's engines while the block runs."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, _params, _context, _many):
        if statement.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            statements.append(statement)
    engines = {db.engine, db.read_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)


def add_customers(core, owner, names: list[tuple[str, str]], **extra) -> list[int]:
    """Bulk rows like bench.common.seed_customers (the service path would take minutes for thousands)."""
    now = core.clock.now()

    def work(session):
        rows = [dict(team_id=owner.team_id, owner_id=owner.id, name=name, company=company,
                     company_norm=company_core(company), stage=core.config.stages[0].id, status="open",
                     stage_entered_at=now, created_at=now, updated_at=now, tags=[], custom={}, **extra)
                for name, company in names]
        session.execute(insert(Customer), rows)
        return list(session.exec(select(Customer.id).where(Customer.owner_id == owner.id).order_by(Customer.id)))
    return core.db.call(work)


def test_find_by_name_finds_the_2500th_customer_and_loads_only_candidates(core):
    _, manager, rep, _ = team_with(core)
    names = customer_names(2500, random.Random(5))
    ids = add_customers(core, rep, names)
    name, company = names[-1]
    text = f"{name} 已报价5万 下周二回访"

    with counted(core.db) as statements:
        found = core.db.call_read(cs.find_by_name, manager, text)  # the manager sees the team's 2,500
    assert ids[-1] in [c.id for c in found]
    assert all(c.name in text for c in found)
    assert len(statements) == 2  # candidates, then the full rows of the hits
    rows = core.db.call_read(cs.name_candidates, manager, text)
    # Before: the first 2,000 visible customers came back to Python for every message (and the
    # 2,500th was never among them).  Now: the hits and near misses only.
    assert ids[-1] in [r[0] for r in rows] and len(rows) <= 20
    assert [c.id for c in core.db.call_read(cs.find_by_name, rep, f"{company}的采购说下周签")] == [ids[-1]]


def test_name_candidates_hold_every_customer_the_scorer_would_match(core):
    """The SQL prefilter may return extra rows, never miss one: checked against scoring every
    visible customer in Python (the old way) for names, companies, Latin names, one-character
    names and long first words."""
    _, manager, rep, _ = team_with(core)
    rng = random.Random(11)
    names = customer_names(300, rng) + [("Tom Lee", "ACME Robotics Ltd"), ("tom", None), ("王", "王氏"),
                                        ("李", None), ("100%_纯", "百分_百%公司"), ("a\\b", "反斜\\杠")]
    add_customers(core, rep, names)
    everyone = core.db.call_read(lambda s: [(c.id, c.name, c.company, c.company_norm) for c in s.exec(
        select(Customer).where(Customer.owner_id == rep.id))])
    texts = ["王", "李 明天回访", "tom 明天回访", "TOM LEE 已报价", "acme 下周签", "ACME Robotics 报价",
             "100%_纯 付款", "a\\b 已付", "反斜\\杠 来电", "王氏集团 来电"]
    for _ in range(150):
        _, name, company, _ = everyone[rng.randrange(len(everyone))]
        label = rng.choice([name, company or name])
        cut = rng.randrange(len(label))
        typo = label[:cut] + "某" + label[cut + 1:]
        variants = [label, typo, typo + "的", "老" + typo + "啊", label[1:], label + "公司", (label + "是老客户") * 8,
                    "我们" + label]
        texts.append(rng.choice(variants) + rng.choice(["", " 已报价5万 下周二回访", "\n客户：好的"]))
    for text in texts:
        score = cs.name_scorer(text)
        expected = {cid for cid, n, c, cn in everyone if score(n, c, cn) >= 0.6}
        for user in (rep, manager):
            got = {row[0] for row in core.db.call_read(cs.name_candidates, user, text)}
            assert expected <= got, (text, expected - got)


def test_the_brief_job_costs_the_same_statements_for_3_or_40_customers_per_rep(core):
    from scheduler.briefs import brief_job
    from storage.models import Team
    _, _, *reps = team_with(core)
    due = core.clock.now() - timedelta(hours=1)

    def run_job(day: int) -> tuple[int, int]:
        def job(session):
            return brief_job(session, core, session.get(Team, reps[0].team_id), core.clock.now() + timedelta(days=day))
        with counted(core.db) as statements:
            queued = core.db.call(job)
        return len(statements), queued

    for rep in reps:
        add_customers(core, rep, customer_names(3, random.Random(rep.id)), next_followup_at=due)
    few = run_job(0)
    for rep in reps:
        add_customers(core, rep, customer_names(37, random.Random(-rep.id)), next_followup_at=due)
    many = run_job(1)
    assert few[1] == many[1] == 2  # one brief per rep (the manager has no customers)
    # Constant in the number of customers (before: one more checklist query per listed customer, 3 vs 15
    # per rep). The first run may also load the team's playbook version (services/playbook.py caches it).
    assert many[0] <= few[0]


def test_brief_loads_only_customers_with_a_reason_and_ranks_like_before(core):
    """The SQL filter (``may_have_reason``) keeps every customer ``reasons_for`` gives a reason."""
    from services.brief import REASON_WEIGHTS, brief_for, local_day_bounds, reasons_for
    _, _, rep, _ = team_with(core)
    rng = random.Random(3)
    now = core.clock.now()
    stages = [s.id for s in core.config.stages]
    ids = add_customers(core, rep, customer_names(120, rng))

    def scatter(session):
        for cid in ids:
            c = session.get(Customer, cid)
            c.stage = rng.choice(stages)
            c.stage_entered_at = now - timedelta(days=rng.uniform(0, 30))
            c.next_followup_at = rng.choice([None, now + timedelta(days=rng.uniform(-3, 3))])
            c.protected_until = rng.choice([None, now + timedelta(days=rng.uniform(-1, 10))])
            c.last_followup_at = rng.choice([None, now - timedelta(days=1)])
            c.intent_level = rng.choice([None, "high", "medium"])
            session.add(c)
    core.db.call(scatter)
    start, end = local_day_bounds(now, core.config.tz)

    def everything(session):
        out = []
        for c in session.exec(select(Customer).where(Customer.owner_id == rep.id)):
            reasons = reasons_for(c, core.config, now, start, end)
            if reasons:
                out.append((-(sum(REASON_WEIGHTS[r] for r in reasons) + (c.intent_score or 0) / 10 + c.priority), c.id))
        return [cid for _, cid in sorted(out)]
    expected = core.db.call_read(everything)
    got = core.db.call_read(lambda s: [i.customer.id for i in brief_for(s, core.config, rep, now, limit=1000)])
    assert got == expected and 0 < len(expected) < len(ids)


def test_digest_top_lists_per_team_match_numbering_every_row(core):
    """The overdue and hot lists (n rows per team through an index) equal the ROW_NUMBER() shape
    they replaced, ties, NULL scores and invalid rows included, for several teams."""
    from sqlalchemy import and_, or_

    from services import digest
    from services import users as us
    from storage.models import Customer
    _, manager, rep, other = team_with(core)
    now = core.clock.now()
    second = core.db.call(lambda s: us.ensure_team(s, "二部", core.config.team.timezone, now))
    rng = random.Random(9)
    for owner in (rep, other):
        add_customers(core, owner, customer_names(60, rng))

    def scatter(session):
        for i, c in enumerate(session.exec(select(Customer))):
            c.team_id = second.id if i % 3 == 0 else c.team_id
            c.next_followup_at = rng.choice([None, now - timedelta(days=rng.randrange(1, 5))])
            c.intent_score = rng.choice([None, 50, 70, 70, 85, 99])
            c.intent_level = rng.choice([None, "high", "medium"])
            c.invalid = rng.random() < 0.1
            c.status = rng.choice(["open", "open", "open", "won"])
            session.add(c)
    core.db.call(scatter)
    teams = [manager.team_id, second.id]
    today_start, _ = digest.inc.day_bounds(core.config, now)

    def old_shape(session):
        base = [Customer.team_id.in_(teams), Customer.status == "open", Customer.invalid == False]  # noqa: E712
        late = and_(Customer.next_followup_at.is_not(None), Customer.next_followup_at < today_start)
        overdue = digest._top_per_team(session, [Customer.team_id, Customer.name, Customer.owner_id, Customer.next_followup_at],
                                       base + [late], [Customer.next_followup_at, Customer.id], digest.MAX_LIST)
        hot = digest._top_per_team(session, [Customer.team_id, Customer.name, Customer.owner_id, Customer.intent_score],
                                   base + [or_(Customer.intent_level == "high", Customer.intent_score >= digest.HOT_SCORE)],
                                   [Customer.intent_score.desc(), Customer.id], digest.MAX_LIST)
        return overdue, hot
    overdue, hot = core.db.call_read(old_shape)
    built = core.db.call_read(digest.build_many, core.config, teams, now)
    owners = core.db.call_read(lambda s: {u.id: u.name for u in s.exec(select(us.User))})
    for t in teams:
        assert built[t].overdue_top == [(n, owners[o], max(1, (today_start - due).days + 1))
                                        for team, n, o, due in overdue if team == t]
        assert built[t].hot == [(n, owners[o], score or 0) for team, n, o, score in hot if team == t]
        assert len(built[t].hot) == digest.MAX_LIST


def test_the_bot_process_does_not_load_the_chart_library_until_a_chart_is_drawn():
    """matplotlib (≈ 33 MB resident, bench.memory) is imported by services/charts.py inside the
    functions that render, never by importing what `salesbot run` imports."""
    import subprocess
    import sys

    from bench.common import REPO
    code = ("import sys, cli.main, bot.app, ingest.server, scheduler.jobs, services.digest, services.boards;"
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.strip() == "False"
