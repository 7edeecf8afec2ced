"""`salesbot playbook export|import` (versions as TOML files; import creates a draft), `salesbot playbook
templates|init` (a new deployment from an industry template) and `salesbot console-link`."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.config import ConfigError, Settings, load_config


def register(sub) -> None:
    pb = sub.add_parser("playbook", help="export a playbook version as TOML, import a TOML file as a draft, or start "
                                         "a new deployment from an industry template")
    pb_sub = pb.add_subparsers(dest="playbook_action", required=True)
    exp = pb_sub.add_parser("export", help="write a version (default: the one every team runs) as TOML")
    exp.add_argument("-o", "--output", help="file to write (default: stdout)")
    exp.add_argument("--version", type=int, help="version number (default: the active default)")
    exp.set_defaults(fn=cmd_export)
    imp = pb_sub.add_parser("import", help="load a TOML file as a new draft: validated and diffed, not published")
    imp.add_argument("file")
    imp.set_defaults(fn=cmd_import)
    listing = pb_sub.add_parser("templates", help="list the shipped industry templates")
    listing.set_defaults(fn=cmd_templates)
    init = pb_sub.add_parser("init", help="write a template as the playbook of a new deployment (never overwrites)")
    init.add_argument("--template", required=True, help="a shipped template name, or a path to a .toml file")
    init.add_argument("--output", default="config.toml", help="file to write (default: config.toml)")
    init.add_argument("--team", help="the team's name in [team]")
    init.set_defaults(fn=cmd_init)
    link = sub.add_parser("console-link", help="print a signed local link to the console for a member (browser testing)")
    link.add_argument("telegram_id", type=int)
    link.add_argument("--base", help="server address (default: http://[telegram] listen_host:listen_port)")
    link.set_defaults(fn=cmd_console_link)


def cmd_console_link(args: argparse.Namespace) -> int:
    """The page as Telegram would open it, signed with this bot's token (valid for [console] auth_max_age_seconds)."""
    from console import auth
    from console.browser import app_url
    settings = Settings.from_env()
    if not settings.token:
        print("TELEGRAM_BOT_TOKEN is not set: the link is signed with the bot's token", file=sys.stderr)
        return 2
    config = load_config(settings.config_path)
    base = args.base or f"http://{config.telegram.listen_host}:{config.telegram.listen_port}"
    print(app_url(base, auth.sign(settings.token, {"id": args.telegram_id, "first_name": str(args.telegram_id)})))
    return 0


def _core():
    from core.clock import Clock
    from services.core import Core
    from storage.db import Database
    from storage.migrate import ensure_schema
    settings = Settings.from_env()
    db = Database(settings.database_url)
    ensure_schema(db)
    return Core(db=db, config=load_config(settings.config_path), clock=Clock())


def cmd_export(args: argparse.Namespace) -> int:
    from services import playbook
    core = _core()
    try:
        text = core.db.call(playbook.export, core, args.version, core.clock.now())
    except playbook.PlaybookError as exc:
        print(exc.body["reason"], file=sys.stderr)
        return 1
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from services import playbook
    core = _core()
    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{args.file}: cannot read: {exc}", file=sys.stderr)
        return 1
    view = core.db.call(playbook.import_text, core, text, core.clock.now())
    print(f"draft {view['id']} created from {args.file}: {len(view['diff'])} change(s) against version {view['against']}")
    for change in view["diff"][:20]:
        print(f"  {change['kind']:8} {change['path']}")
    for error in view["errors"]:
        print(f"  ✘ {error['path'] or '(file)'}: {error['message']}")
    print("publish it from the console (看板 → 流程配置)" if view["valid"] else "fix the errors above, then import again")
    return 0 if view["valid"] else 1


def cmd_templates(args: argparse.Namespace) -> int:
    from core import templates
    for name in templates.names():
        _, config = templates.load(name)
        print(f"{name}: {len(config.stages)} stages — " + " → ".join(s.name for s in config.stages))
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from core import templates
    target = Path(args.output)
    try:
        config = templates.init(args.template, target, args.team)
    except FileExistsError:
        print(f"{target} already exists and was not changed. To review a template against a running deployment, "
              f"write a draft instead: salesbot playbook init --template {args.template} --output config.draft.toml",
              file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(f"Template error (nothing was written):\n{exc}", file=sys.stderr)
        return 2
    print(f"wrote {target}: {len(config.stages)} stages, {len(config.competitors)} competitor placeholders, "
          f"team {config.team.name}. Next: edit it, then `salesbot check-config {target}`.")
    return 0
