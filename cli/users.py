"""`salesbot user list|deactivate|reactivate|move` and `salesbot audit list|export` for operators.

The same services as /team (services/team.py) with the operator as actor (``None``): the audit
trail records these as done by "operator/system".  People are named by Telegram id.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from core.config import Settings, load_config


def register(sub) -> None:
    user = sub.add_parser("user", help="team members: list, deactivate (with hand-over), reactivate, move")
    user_sub = user.add_subparsers(dest="user_action", required=True)
    ls = user_sub.add_parser("list", help="members with role, status, customers held and last activity")
    ls.add_argument("--team", help="team name (default: every team)")
    ls.set_defaults(fn=cmd_user_list)
    off = user_sub.add_parser("deactivate", help="end access now and hand everything over (离职继承)")
    off.add_argument("telegram_id", type=int)
    where = off.add_mutually_exclusive_group(required=True)
    where.add_argument("--to", help="Telegram id of one colleague, or several separated by commas (split in turn)")
    where.add_argument("--pool", action="store_true", help="release the customers to the team pool")
    off.set_defaults(fn=cmd_user_deactivate)
    on = user_sub.add_parser("reactivate", help="restore access (customers handed over are not given back)")
    on.add_argument("telegram_id", type=int)
    on.set_defaults(fn=cmd_user_reactivate)
    mv = user_sub.add_parser("move", help="move a member to another team")
    mv.add_argument("telegram_id", type=int)
    mv.add_argument("--team", required=True, help="the target team's name (must exist)")
    what = mv.add_mutually_exclusive_group(required=True)
    what.add_argument("--keep", action="store_true", help="their customers go along into the new team")
    what.add_argument("--to", help="Telegram id of a colleague in the old team who receives the customers")
    what.add_argument("--pool", action="store_true", help="their customers go to the old team's pool")
    mv.set_defaults(fn=cmd_user_move)
    audit = sub.add_parser("audit", help="the audit trail of access-relevant actions")
    audit_sub = audit.add_subparsers(dest="audit_action", required=True)
    al = audit_sub.add_parser("list", help="the newest entries")
    al.add_argument("-n", type=int, default=30)
    al.set_defaults(fn=cmd_audit_list)
    ae = audit_sub.add_parser("export", help="the whole trail as CSV")
    ae.add_argument("-o", "--output", help="file to write (default audit-YYYYMMDD.csv; '-' for stdout)")
    ae.set_defaults(fn=cmd_audit_export)


def _core():
    from core.clock import Clock
    from services.core import Core
    from storage.db import Database
    from storage.migrate import ensure_schema
    settings = Settings.from_env()
    db = Database(settings.database_url)
    ensure_schema(db)
    return Core(db=db, config=load_config(settings.config_path), clock=Clock())


def _user_id(session, tg_id: int) -> int:
    from services.team import TeamError
    from services.users import get_user
    user = get_user(session, tg_id)
    if user is None:
        raise TeamError("not_found")
    return user.id


def _run(work, out: TextIO | None = None) -> int:
    """Run ``work(core)``; a refusal is printed in words with exit status 1."""
    from core.texts import tp
    from services.team import TeamError
    core = _core()
    try:
        print(work(core), file=out or sys.stdout)
        return 0
    except TeamError as exc:
        print(f"refused: {tp('team_error_' + exc.reason, 'en')}", file=sys.stderr)
        return 1
    finally:
        core.db.close()


def cmd_user_list(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from services import team as team_svc
    from services.users import find_team

    def work(core):
        def read(session):
            teams = team_svc.teams_for(session, None)
            if args.team:
                teams = [x for x in teams if x.name == args.team] if find_team(session, args.team) else []
                if not teams:
                    raise team_svc.TeamError("not_found")
            lines = [f"{'telegram_id':>12}  {'name':<16} {'role':<8} {'status':<12} {'customers':>9}  last activity"]
            for team in teams:
                lines.append(f"# {team.name}")
                for row in team_svc.members(session, None, team.id):
                    u = row.user
                    status = "deactivated" if u.deactivated_at else ("active" if u.active else "blocked")
                    last = row.last_activity.isoformat(sep=" ", timespec="minutes") if row.last_activity else "—"
                    lines.append(f"{u.tg_id:>12}  {u.name:<16} {u.role:<8} {status:<12} {row.customers:>9}  {last}")
            return "\n".join(lines)
        return core.db.call_read(read)
    return _run(work, out)


def cmd_user_deactivate(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from services import team as team_svc

    def work(core):
        def do(session):
            target = _user_id(session, args.telegram_id)
            if args.pool:
                plan = team_svc.Handover("pool")
            else:
                ids = [_user_id(session, int(x)) for x in str(args.to).split(",") if x.strip()]
                plan = team_svc.Handover("colleague" if len(ids) == 1 else "split", ids)
            report = team_svc.deactivate(session, core, None, target, plan)
            moved = ", ".join(f"{'pool' if k is None else k}: {len(v)}" for k, v in report.customers.items()) or "none"
            return (f"deactivated telegram id {args.telegram_id}: {report.customer_count} customers handed over "
                    f"(user id → count: {moved}), {report.tasks} tasks, {report.drafts} drafts")
        return core.db.call(do)
    return _run(work, out)


def cmd_user_reactivate(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from services import team as team_svc

    def work(core):
        user = core.db.call(lambda s: team_svc.reactivate(s, core, None, _user_id(s, args.telegram_id)))
        return f"reactivated {user.name} (telegram id {user.tg_id}); customers handed over earlier stay where they are"
    return _run(work, out)


def cmd_user_move(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from services import team as team_svc
    from services.users import find_team

    def work(core):
        def do(session):
            team = find_team(session, args.team)
            if team is None:
                raise team_svc.TeamError("not_found")
            customers = "keep" if args.keep else (team_svc.Handover("pool") if args.pool else
                                                  team_svc.Handover("colleague", [_user_id(session, int(args.to))]))
            report = team_svc.move_member(session, core, None, _user_id(session, args.telegram_id), team.id, customers)
            return f"moved telegram id {args.telegram_id} to {team.name}: {report.customer_count} customers ({'kept' if args.keep else 'handed over'})"
        return core.db.call(do)
    return _run(work, out)


def cmd_audit_list(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from services import audit

    def work(core):
        def read(session):
            rows, total = audit.events(session, None, limit=max(1, min(args.n, 1000)))
            people, teams = audit.names(session, rows)
            lines = [f"{total} entries, newest first"]
            for e in rows:
                lines.append(f"{e.at:%Y-%m-%d %H:%M} UTC  {e.kind:<16} {people.get(e.actor_id, 'operator'):<12} "
                             f"{people.get(e.subject_id, ''):<12} {teams.get(e.team_id, '')}"
                             f"{' → ' + teams[e.other_team_id] if e.other_team_id in teams else ''}  {e.detail}")
            return "\n".join(lines)
        return core.db.call_read(read)
    return _run(work, out)


def cmd_audit_export(args: argparse.Namespace) -> int:
    from services import audit

    core = _core()
    try:
        now = core.clock.now()
        data = core.db.call(audit.export_csv, None, now)
    finally:
        core.db.close()
    if args.output == "-":
        sys.stdout.buffer.write(data)
        return 0
    path = Path(args.output or f"audit-{now:%Y%m%d}.csv")
    path.write_bytes(data)
    entries = data.count(b"\n") - 1
    print(f"wrote {path}: {entries} entries")
    return 0
