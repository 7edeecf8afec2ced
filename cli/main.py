"""The `salesbot` command: run the bot, manage the database, admins, imports, diagnostics."""
from __future__ import annotations

import argparse
import asyncio
import sys

from core.config import ConfigError, Settings, load_config


def setup_logging(level: str = "INFO") -> None:
    import os

    from core.logctx import setup_logging as setup
    setup(level, os.environ.get("SALESBOT_LOG_FORMAT", "text"))


def cmd_run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    config = load_config(settings.config_path)
    if not settings.token:
        print("TELEGRAM_BOT_TOKEN is not set. Get a token from @BotFather, or run `make demo` to try salesbot offline.",
              file=sys.stderr)
        return 2
    from bot.app import build_application
    from bot.run import PortInUse, run
    import os
    # Test-only: against the local Bot API server (tgfake --time-scale N) every Telegram limit runs N
    # times faster, and so must the bot's own limiter. Never set this against the real Telegram.
    time_scale = float(os.environ.get("SALESBOT_TELEGRAM_TIME_SCALE") or 1.0)
    app = build_application(settings, config, time_scale=time_scale)
    try:
        asyncio.run(run(app, config, settings, receive_updates=not getattr(args, "worker", False)))
    except PortInUse as exc:
        print(f"salesbot: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    from storage.migrate import current_revision, downgrade, head_revision, upgrade
    from storage.db import Database
    if args.action == "upgrade":
        upgrade(settings.database_url, args.revision or "heads")
        print(f"database upgraded to {args.revision or head_revision()}")
    elif args.action == "downgrade":
        downgrade(settings.database_url, args.revision or "base")
        print(f"database downgraded to {args.revision or 'base'}")
    else:
        db = Database(settings.database_url)
        print(f"current: {current_revision(db)}  head: {head_revision()}")
    return 0


def cmd_admin(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    config = load_config(settings.config_path)
    from core.clock import utcnow
    from services.users import add_admin
    from storage.db import Database
    from storage.migrate import ensure_schema
    db = Database(settings.database_url)
    ensure_schema(db)
    user = db.call(add_admin, args.telegram_id, args.name or "", config.team.name, config.team.timezone, utcnow())
    print(f"admin {user.name} (telegram id {user.tg_id}) is ready in team {config.team.name}")
    return 0


def _one_blas_thread() -> None:
    """Training fits many small regressions: BLAS threads only fight over the cores (on a loaded
    2-core machine one fit took 56 s of CPU with OpenBLAS's threads and 4 s without; the whole
    `nlp train` 27 min against 53 s). Set before numpy is first imported; an explicit setting wins."""
    import os

    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")


def cmd_nlp(args: argparse.Namespace) -> int:
    _one_blas_thread()
    from nlp.eval import main as eval_main
    if args.cv:
        return eval_main(([args.file] if args.file else []) + ["--cv"] + [f"--by={b}" for b in args.by or ()]
                         + (["--fixed-blend"] if args.fixed_blend else []))
    if not args.file:
        print("salesbot nlp eval: give a FILE.jsonl, or --cv", file=sys.stderr)
        return 2
    return eval_main([args.file] + (["--details"] if args.details else []))


def cmd_nlp_train(args: argparse.Namespace) -> int:
    _one_blas_thread()
    from nlp.train import train_main      # scikit-learn: pip install -e .[dev]
    return train_main(args.files)


def cmd_check_config(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    print(f"ok: {len(config.stages)} stages, team {config.team.name}, zone {config.team.timezone}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="salesbot", description="Telegram sales-process bot")
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the bot (polling, or webhook if [telegram] webhook_url is set)")
    run.add_argument("--worker", action="store_true",
                     help="do not receive Telegram updates (another instance polls); still run jobs, the outbox "
                          "and the ingestion API when this instance leads (docs/deployment.md)")
    run.set_defaults(fn=cmd_run)
    db = sub.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade", "downgrade", "current"])
    db.add_argument("revision", nargs="?")
    db.set_defaults(fn=cmd_db)
    admin = sub.add_parser("admin", help="manage admins")
    admin_sub = admin.add_subparsers(dest="admin_action", required=True)
    add = admin_sub.add_parser("add", help="make a Telegram user an admin")
    add.add_argument("telegram_id", type=int)
    add.add_argument("--name")
    add.set_defaults(fn=cmd_admin)
    nlp = sub.add_parser("nlp", help="conversation analysis tools")
    nlp_sub = nlp.add_subparsers(dest="nlp_action", required=True)
    ev = nlp_sub.add_parser("eval", help="evaluate intent/objection detection on a labeled JSONL file")
    ev.add_argument("file", nargs="?")
    ev.add_argument("--details", action="store_true", help="print every miss")
    ev.add_argument("--cv", action="store_true",
                    help="leave-one-trade-out, leave-one-format-out and leave-one-writer-out cross-validation "
                         "on the training chats")
    ev.add_argument("--by", action="append", choices=("trade", "format", "writer"),
                    help="with --cv: only this split (repeatable)")
    ev.add_argument("--fixed-blend", action="store_true",
                    help="with --cv: keep the shipped blend (λ, δ) instead of choosing it in every fold (faster)")
    ev.set_defaults(fn=cmd_nlp)
    tr = nlp_sub.add_parser("train", help="train the intent/objection model (nlp/data/model.json, model.npz)")
    tr.add_argument("files", nargs="*", help="labeled JSONL files (default nlp/data/corpus.jsonl, tests/data/nlp_dev.jsonl, nlp/data/written.jsonl)")
    tr.set_defaults(fn=cmd_nlp_train)
    check = sub.add_parser("check-config", help="validate a playbook file")
    check.add_argument("config", nargs="?")
    check.set_defaults(fn=cmd_check_config)
    for extra in ("cli.demo", "cli.ops", "cli.sheets", "cli.users", "cli.playbook"):
        try:
            module = __import__(extra, fromlist=["register"])
        except ImportError:
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    try:
        return args.fn(args) or 0
    except ConfigError as exc:
        print(f"Configuration error:\n{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
