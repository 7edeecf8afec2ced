"""`salesbot user …` and `salesbot audit …` against a real database (SQLite and PostgreSQL)."""
from __future__ import annotations

import csv
import io

from sqlmodel import select

from cli.main import main
from services import team as team_svc
from services import users as us
from storage.models import Customer, Task, User
from storage.models_team import AuditEvent
from tests.test_services import create, team_with


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_user_list_deactivate_reactivate_move(core, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("DATABASE_URL", core.db.url)
    admin, mgr, li, chen = team_with(core)
    create(core, li, name="张总", phone="13800138000", source="官网表单")
    create(core, li, name="王总", phone="13900139000", source="官网表单")
    core.db.call(lambda s: s.add(Task(user_id=li.id, text="回访", due_at=core.clock.now(), created_at=core.clock.now())))
    code, out, _ = run_cli(capsys, "user", "list")
    assert code == 0 and "# 销售一部" in out
    line = next(x for x in out.splitlines() if x.strip().startswith(str(li.tg_id)))
    assert "rep" in line and "active" in line and line.split()[4] == "2"
    # Refusals in words: unknown people, a recipient outside the team.
    code, _, err = run_cli(capsys, "user", "deactivate", "999", "--pool")
    assert code == 1 and "not found" in err
    other = core.db.call(lambda s: us.ensure_team(s, "华南团队", "Asia/Shanghai", core.clock.now()).id)
    stranger = core.db.call(lambda s: _member_of(s, other, 777, core))
    code, _, err = run_cli(capsys, "user", "deactivate", str(li.tg_id), "--to", str(stranger))
    assert code == 1 and "same team" in err
    # Hand everything to 销售1 (chen): customers, the open task.
    code, out, _ = run_cli(capsys, "user", "deactivate", str(li.tg_id), "--to", str(chen.tg_id))
    assert code == 0 and "2 customers handed over" in out and "1 tasks" in out
    assert core.db.call(lambda s: {c.owner_id for c in s.exec(select(Customer))}) == {chen.id}
    assert core.db.call(lambda s: [t.user_id for t in s.exec(select(Task))]) == [chen.id]
    code, out, _ = run_cli(capsys, "user", "list", "--team", "销售一部")
    assert "deactivated" in next(x for x in out.splitlines() if x.strip().startswith(str(li.tg_id)))
    code, out, _ = run_cli(capsys, "user", "reactivate", str(li.tg_id))
    assert code == 0 and "stay where they are" in out
    assert core.db.call(lambda s: s.get(User, li.id).deactivated_at) is None
    assert core.db.call(lambda s: {c.owner_id for c in s.exec(select(Customer))}) == {chen.id}
    # Move chen to 华南团队, customers to the old team's pool.
    code, out, _ = run_cli(capsys, "user", "move", str(chen.tg_id), "--team", "华南团队", "--pool")
    assert code == 0 and "moved" in out
    assert core.db.call(lambda s: s.get(User, chen.id).team_id) == other
    assert core.db.call(lambda s: {(c.team_id, c.owner_id) for c in s.exec(select(Customer))}) == {(mgr.team_id, None)}
    # Everything is on the trail, attributed to the operator; the export is CSV and recorded too.
    kinds = core.db.call(lambda s: [(e.kind, e.actor_id) for e in s.exec(select(AuditEvent).order_by(AuditEvent.id))])
    assert ("deactivated", None) in kinds and ("reactivated", None) in kinds and ("team_changed", None) in kinds
    target = tmp_path / "audit.csv"
    code, out, _ = run_cli(capsys, "audit", "export", "-o", str(target))
    assert code == 0
    rows = list(csv.reader(io.StringIO(target.read_bytes().decode("utf-8-sig"))))
    assert rows[0][:3] == ["id", "at_utc", "kind"] and {"deactivated", "handover", "team_changed"} <= {r[2] for r in rows[1:]}
    assert core.db.call(lambda s: s.exec(select(AuditEvent).where(AuditEvent.kind == "export")).one()).detail["what"] == "audit"
    code, out, _ = run_cli(capsys, "audit", "list", "-n", "5")
    assert code == 0 and "export" in out


def _member_of(session, team_id: int, tg_id: int, core) -> int:
    session.add(User(tg_id=tg_id, name="外队销售", role="rep", team_id=team_id, joined_at=core.clock.now()))
    return tg_id


def test_last_admin_cannot_be_deactivated_and_managers_stay_in_their_team(core):
    admin, mgr, li, chen = team_with(core)
    try:
        core.db.call(team_svc.deactivate, core, None, admin.id, team_svc.Handover("pool"))
        raise AssertionError("the last admin was deactivated")
    except team_svc.TeamError as exc:
        assert exc.reason == "last_admin"
    other = core.db.call(lambda s: us.ensure_team(s, "华南团队", "Asia/Shanghai", core.clock.now()).id)
    for work in (lambda s: team_svc.deactivate(s, core, li, chen.id, team_svc.Handover("pool")),      # a rep
                 lambda s: team_svc.change_role(s, core, mgr, li.id, "manager"),                     # a manager
                 lambda s: team_svc.deactivate(s, core, mgr, admin.id, team_svc.Handover("pool")),   # above them
                 lambda s: us.create_invite(s, mgr, core.clock.now(), 72, "rep", other)):            # other team
        try:
            core.db.call(work)
            raise AssertionError("allowed")
        except (team_svc.TeamError, PermissionError):
            pass
    assert core.db.call(lambda s: [u.deactivated_at for u in s.exec(select(User))]) == [None] * 4
