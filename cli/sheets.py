"""`salesbot import FILE…` (dry-run report, confirm, one transaction) and `salesbot export`.

Also `salesbot connector run NAME` to pull a connector now (same code as the scheduled run).
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TextIO

from core.config import Settings, load_config


def register(sub) -> None:
    imp = sub.add_parser("import", help="import customers from CSV/XLSX files (dry run first, then one transaction)")
    imp.add_argument("files", nargs="+", help="CSV or XLSX files (all worksheets are read)")
    imp.add_argument("--team", help="team name (default: the playbook's [team] name)")
    imp.add_argument("--as", dest="as_user", type=int, help="Telegram id of the manager importing (for history)")
    imp.add_argument("--yes", action="store_true", help="apply without asking")
    imp.add_argument("--dry-run", action="store_true", help="only show the report")
    imp.set_defaults(fn=cmd_import)
    exp = sub.add_parser("export", help="write the team's customers and activities to an XLSX file")
    exp.add_argument("-o", "--output", help="file to write (default: export-<team>-<date>.xlsx)")
    exp.add_argument("--team", help="team name (default: the playbook's [team] name); --all for every team")
    exp.add_argument("--all", action="store_true", help="every team")
    exp.set_defaults(fn=cmd_export)
    conn = sub.add_parser("connector", help="connectors to other systems (ERP, chat archive)")
    conn_sub = conn.add_subparsers(dest="connector_action", required=True)
    run = conn_sub.add_parser("run", help="pull a connector now")
    run.add_argument("name", choices=["erp", "chat_archive"])
    run.set_defaults(fn=cmd_connector_run)


class ProgressBar:
    """A one-line progress bar on stderr (no dependency): `planning  [#####.....]  50% 120/240`."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30, min_interval: float = 0.05) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.min_interval = min_interval
        self._last = 0.0
        self.updates = 0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < self.min_interval:
            return
        self._last = now
        self.updates += 1
        share = done / total if total else 1.0
        filled = int(round(self.width * share))
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r{self.label:<10} [{bar}] {share:4.0%} {done}/{total}")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def _open(settings: Settings):
    from storage.db import Database
    from storage.migrate import ensure_schema
    db = Database(settings.database_url)
    ensure_schema(db)
    return db


def _team(session, config, name: str | None):
    from core.clock import utcnow
    from services.users import ensure_team
    return ensure_team(session, name or config.assignment.team or config.team.name, config.team.timezone, utcnow())


def cmd_import(args: argparse.Namespace, *, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    import html
    import re

    from core.clock import Clock
    from ingest import sheets as sh
    from services.core import Core
    from services.users import get_user
    out = stdout or sys.stdout
    settings = Settings.from_env()
    config = load_config(settings.config_path)
    rows: list = []
    digest = hashlib.sha256()
    names = []
    for file in args.files:
        path = Path(file)
        try:
            content = path.read_bytes()
        except OSError as exc:
            print(f"cannot read {path}: {exc}", file=sys.stderr)
            return 2
        if len(content) > config.ingest.max_import_bytes:
            print(f"{path}: larger than {config.ingest.max_import_bytes} bytes", file=sys.stderr)
            return 2
        try:
            rows += sh.read_file(content, path.name, config)
        except sh.SheetError as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            return 2
        digest.update(content)
        names.append(path.name)
    db = _open(settings)
    core = Core(db=db, config=config, clock=Clock())
    try:
        def plan(session):
            team = _team(session, config, args.team)
            user = get_user(session, args.as_user) if args.as_user else None
            return sh.create_batch(session, config, team, user, rows, names, digest.hexdigest(), core.clock.now(),
                                   progress=ProgressBar("checking"))
        batch, planned = db.call(plan)
        report = sh.report_text(planned, ", ".join(names), "zh", limit=10_000)
        print(html.unescape(re.sub(r"</?b>", "", report)), file=out)
        if args.dry_run or not planned.counts["new"]:
            db.call(sh.cancel_batch, batch.id, None, core.clock.now())
            return 0
        if not args.yes:
            print(f"Import {planned.counts['new']} new customers? [y/N] ", end="", file=out, flush=True)
            answer = (stdin or sys.stdin).readline().strip().lower()
            if answer not in ("y", "yes", "是"):
                db.call(sh.cancel_batch, batch.id, None, core.clock.now())
                print("cancelled; nothing was written", file=out)
                return 1

        def apply(session):
            user = get_user(session, args.as_user) if args.as_user else None
            return sh.apply_batch(session, core, batch.id, user, core.clock.now(), progress=ProgressBar("importing"))
        try:
            result = db.call(apply)
        except sh.PlanChanged:
            print("the data changed since the check (someone added one of these customers); nothing was written — "
                  "run the import again", file=out)
            return 1
        print(f"imported {len(result.created)} customers (batch #{result.batch.id})", file=out)
        return 0
    finally:
        db.close()


def cmd_export(args: argparse.Namespace) -> int:
    from core.clock import utcnow
    from ingest.sheet_export import export_xlsx
    settings = Settings.from_env()
    config = load_config(settings.config_path)
    db = _open(settings)
    try:
        def work(session):
            team = None if args.all else _team(session, config, args.team)
            data, customers, activities = export_xlsx(session, config, team.id if team else None, utcnow())
            from services import audit
            audit.record(session, "export", utcnow(), team_id=team.id if team else None, what="customers", via="cli",
                         customers=customers, activities=activities)
            return data, customers, activities, team.name if team else "all"
        data, customers, activities, team_name = db.call(work)
    finally:
        db.close()
    path = Path(args.output or f"export-{team_name}-{datetime.now():%Y%m%d}.xlsx")
    path.write_bytes(data)
    print(f"wrote {path}: {customers} customers, {activities} activities")
    return 0


def cmd_connector_run(args: argparse.Namespace) -> int:
    from core.clock import Clock
    from ingest.connectors.runs import run_connector
    from services.core import Core
    settings = Settings.from_env()
    config = load_config(settings.config_path)
    if not config.connectors[args.name].enabled:
        print(f"connector {args.name} is not enabled in config.toml ([connectors.{args.name}] enabled = true)",
              file=sys.stderr)
        return 2
    db = _open(settings)
    try:
        core = Core(db=db, config=config, clock=Clock(), instance_id="cli")
        run = asyncio.run(run_connector(core, args.name, trigger="cli"))
    finally:
        db.close()
    if run is None:
        print("another run of this connector is in progress", file=sys.stderr)
        return 1
    print(f"run #{run.id}: {run.status} — {run.pages} pages, {run.fetched} records, {run.applied} applied, "
          f"{run.skipped} unchanged/duplicate, {run.rejected} rejected, {run.retries} retries"
          + (f"; error: {run.error}" if run.error else ""))
    return 0 if run.status == "ok" else 1
