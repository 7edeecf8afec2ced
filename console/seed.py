"""A realistic sales organisation in the database, fast: teams, reps, customers in every stage with
their stage moves, follow-ups, analyses, checklist items and points over the last weeks.

Rows are inserted in bulk (the bench seeds 1,000 reps / 100,000 customers this way); every number
the console shows is then computed by the real services from these rows.  Deterministic for a seed.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert
from sqlmodel import Session

from core.config import Config
from storage.models import (Activity, ChecklistDone, Customer, IntentRecord, PointsEntry, StageChange, Team, User)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "华", "慧",
         "建国", "晓东", "海燕", "志强", "春梅", "子涵", "雨桐", "浩然", "欣怡", "俊杰"]
CITIES = ["苏州", "无锡", "杭州", "宁波", "合肥", "南京", "常州", "嘉兴", "绍兴", "温州"]
TRADES = ["精密机械", "电子科技", "新材料", "智能装备", "医疗器械", "环保科技", "汽车零部件", "食品", "化工", "物流"]
INDUSTRIES = ["机械", "电子", "医疗", "化工", "汽车", "食品", "物流", "能源"]
FOLLOWUPS = ["电话沟通了需求，客户关注交期", "发了产品资料和案例", "客户说下周内部讨论", "约了下周二上门拜访",
             "报价已发，客户觉得偏贵", "技术交流顺利，对方工程师认可方案", "客户在比较两家供应商", "催了合同盖章进度"]
# Share of customers whose furthest stage is each stage (early stages hold most of them).
STAGE_WEIGHTS = [30, 22, 16, 12, 9, 6, 5]


@dataclass
class SeededTeam:
    id: int
    name: str
    manager_id: int
    manager_tg: int
    reps: list[tuple[int, int, str]] = field(default_factory=list)  # (user id, tg id, name)


@dataclass
class Seeded:
    admin_tg: int
    teams: list[SeededTeam]
    customers: list[tuple[int, int | None, str, str]] = field(default_factory=list)  # (team, owner, stage, status)


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def seed(session: Session, config: Config, now: datetime, *, teams: int = 2, reps_per_team: int = 4,
         customers_per_rep: int = 12, days: int = 21, activities_per_customer: int = 3, rng_seed: int = 7,
         team_names: list[str] | None = None, admin_tg: int | None = 1, tg_base: int = 0) -> Seeded:
    """``admin_tg=None``: no admin (the caller has one); ``tg_base`` offsets every seeded Telegram id."""
    rng = random.Random(rng_seed)
    stages = config.stages
    n_stages = len(stages)
    weights = (STAGE_WEIGHTS + [3] * n_stages)[:n_stages]
    out = Seeded(admin_tg=admin_tg or 0, teams=[])
    team_rows = []
    for t in range(teams):
        name = team_names[t] if team_names and t < len(team_names) else f"{CITIES[t % len(CITIES)]}{'一二三四五六七八九十'[t % 10]}组"
        team = Team(name=name, timezone=config.team.timezone, created_at=now - timedelta(days=400))
        session.add(team)
        team_rows.append(team)
    session.flush()
    if admin_tg is not None:
        session.add(User(tg_id=admin_tg, name="Ada", role="admin", language="zh", team_id=team_rows[0].id,
                         joined_at=now - timedelta(days=400)))
    users: list[tuple[SeededTeam, User, list[User]]] = []
    for t, team in enumerate(team_rows):
        manager = User(tg_id=tg_base + 1000 + t, name=f"{_name(rng)}经理", role="manager", team_id=team.id, language="zh",
                       joined_at=now - timedelta(days=300))
        reps = [User(tg_id=tg_base + 100000 + t * 10000 + i, name=_name(rng), role="rep", team_id=team.id,
                     language="zh", joined_at=now - timedelta(days=rng.choice([20, 45, 120, 200, 400, 700])),
                     target_points=rng.choice([300, 400, 500])) for i in range(reps_per_team)]
        session.add(manager)
        session.add_all(reps)
        users.append((SeededTeam(team.id, team.name, 0, manager.tg_id), manager, reps))
    session.flush()
    for st, manager, reps in users:
        st.manager_id = manager.id
        st.reps = [(r.id, r.tg_id, r.name) for r in reps]
        out.teams.append(st)

    customers: list[dict] = []
    plans: list[tuple[int, int, list[datetime], str]] = []  # (owner, team, stage entry times, status)
    serial = 0
    for st, _manager, reps in users:
        for r in reps:
            for _ in range(customers_per_rep):
                serial += 1
                furthest = rng.choices(range(n_stages), weights=weights)[0]
                status = "open"
                if furthest == n_stages - 1 and rng.random() < 0.5:
                    status = "won"
                elif furthest >= 2 and rng.random() < 0.08:
                    status = "lost"
                # Fresh leads are young; a customer further along has been around longer (a few stay too long).
                span = min(days, 2 + 1.3 * sum(s.expected_days for s in stages[:furthest + 1]))
                created = now - timedelta(days=rng.uniform(0.3, span), hours=rng.uniform(0, 8))
                steps = [rng.uniform(0.3, stages[i].expected_days * 1.6) for i in range(furthest)]
                room = (now - created).total_seconds() / 86400 * rng.uniform(0.6, 0.95)
                if sum(steps) > room:  # squeeze the stays into the customer's life so far
                    steps = [x * room / sum(steps) for x in steps]
                times = [created]
                for step in steps:
                    times.append(times[-1] + timedelta(days=step))
                last_follow = min(now - timedelta(hours=2), times[-1] + timedelta(days=rng.uniform(0, 3)))
                company = f"{rng.choice(CITIES)}{rng.choice(['华', '瑞', '恒', '嘉', '鑫', '博', '凯', '泰'])}{rng.choice(['达', '远', '信', '通', '源', '盛'])}{rng.choice(TRADES)}有限公司"
                customers.append(dict(
                    team_id=st.id, owner_id=r.id, name=f"{rng.choice(SURNAMES)}总", company=company,
                    contact=_name(rng), phone=f"13{rng.randint(100000000, 999999999)}", industry=rng.choice(INDUSTRIES),
                    source=rng.choice(["官网表单", "展会", "转介绍", "电话开发"]), tags=[], custom={},
                    amount=float(rng.choice([3, 5, 8, 12, 20, 35, 50]) * 10000) if furthest >= 3 else None,
                    stage=stages[furthest].id, status=status, stage_entered_at=times[-1], created_at=created,
                    updated_at=last_follow, created_by=r.id, last_followup_at=last_follow,
                    next_followup_at=(now + timedelta(days=rng.uniform(-6, 8))) if status == "open" else None,
                    protected_until=(now + timedelta(days=rng.uniform(-0.5, 12))) if status == "open" else None,
                    completeness=rng.choice([40, 60, 80, 100]), intent_score=rng.randint(20, 95) if furthest >= 2 else None,
                    intent_level=None, priority=0, invalid=False, phone_norm=None, company_norm=None))
                plans.append((r.id, st.id, times, status))
    if not customers:
        return out
    session.execute(insert(Customer), customers)
    session.flush()
    first_id = session.execute(Customer.__table__.select().with_only_columns(Customer.id)
                               .order_by(Customer.id.desc()).limit(1)).scalar() - len(customers) + 1
    moves, acts, done, points, intents = [], [], [], [], []
    for offset, (owner, team_id, times, status) in enumerate(plans):
        cid = first_id + offset
        acts.append(dict(customer_id=cid, user_id=owner, kind="create", text="", at=times[0], data={}))
        moves.append(dict(customer_id=cid, from_stage=None, to_stage=stages[0].id, by_user_id=owner, at=times[0], complete_data=True))
        for i in range(1, len(times)):
            moves.append(dict(customer_id=cid, from_stage=stages[i - 1].id, to_stage=stages[i].id, by_user_id=owner,
                              at=times[i], complete_data=rng.random() < 0.9))
            acts.append(dict(customer_id=cid, user_id=owner, kind="stage", text=stages[i].id, at=times[i],
                             data={"from": stages[i - 1].id}))
            for item in stages[i - 1].checklist[:2]:
                done.append(dict(customer_id=cid, stage=stages[i - 1].id, item_id=item.id, user_id=owner,
                                 at=times[i] - timedelta(hours=2), within_expected=rng.random() < 0.8))
                if item.points:
                    points.append(dict(user_id=owner, team_id=team_id, action=f"item:{item.id}", points=item.points,
                                       status="awarded", evidence_type="customer", evidence_id=cid, note="", at=times[i]))
        if status != "open":
            end = times[-1] + timedelta(hours=3)
            moves.append(dict(customer_id=cid, from_stage=stages[len(times) - 1].id, to_stage=status, by_user_id=owner,
                              at=end, complete_data=True))
            acts.append(dict(customer_id=cid, user_id=owner, kind="stage", text=status, at=end, data={}))
        span = max(1.0, (now - times[0]).total_seconds() / 86400)
        for _ in range(activities_per_customer):
            at = times[0] + timedelta(days=rng.uniform(0, span - 0.05))
            acts.append(dict(customer_id=cid, user_id=owner, kind="followup", text=rng.choice(FOLLOWUPS), at=at, data={}))
            points.append(dict(user_id=owner, team_id=team_id, action="followup_logged", points=config.points.followup_logged,
                               status="awarded", evidence_type="customer", evidence_id=cid, note="", at=at))
        if len(times) >= 3 and rng.random() < 0.5:
            intents.append(dict(customer_id=cid, user_id=owner, score=rng.randint(25, 92), level=rng.choice(["high", "medium", "low"]),
                                objections=rng.sample(sorted(config.objections), k=min(1, len(config.objections))),
                                reply_hours=[], at=times[-1]))
    for model, rows in ((StageChange, moves), (Activity, acts), (ChecklistDone, done), (PointsEntry, points),
                        (IntentRecord, intents)):
        for i in range(0, len(rows), 5000):
            session.execute(insert(model), rows[i:i + 5000])
    out.customers = [(c["team_id"], c["owner_id"], c["stage"], c["status"]) for c in customers]
    session.flush()
    return out
