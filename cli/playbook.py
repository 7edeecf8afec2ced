"""`salesbot playbook`: start a new deployment from an industry template (issue 16)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.config import ConfigError


def register(sub) -> None:
    playbook = sub.add_parser("playbook", help="industry playbook templates")
    actions = playbook.add_subparsers(dest="playbook_action", required=True)
    listing = actions.add_parser("templates", help="list the shipped templates")
    listing.set_defaults(fn=cmd_templates)
    init = actions.add_parser("init", help="write a template as the playbook of a new deployment (never overwrites)")
    init.add_argument("--template", required=True, help="a shipped template name, or a path to a .toml file")
    init.add_argument("--output", default="config.toml", help="file to write (default: config.toml)")
    init.add_argument("--team", help="the team's name in [team]")
    init.set_defaults(fn=cmd_init)


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
