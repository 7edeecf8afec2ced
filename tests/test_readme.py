"""README checks (issue 14): what a newcomer reads first must match what the bot does."""
from __future__ import annotations

import re
from pathlib import Path

from telegram.ext import CommandHandler

from core.texts import TEXTS
from handlers import all_handlers

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(f"## {title}")
    end = README.find("\n## ", start + 1)
    return README[start:end if end > 0 else None]


def test_no_reference_outside_the_repository():
    assert "../" not in README, "the README points at a path outside the repository"


def test_every_table_keeps_its_header():
    """A blank line inside a table starts a new paragraph: rows after it lose the header."""
    runs: list[list[str]] = []
    previous_was_row = False
    for line in README.splitlines():
        is_row = line.startswith("|")
        if is_row and not previous_was_row:
            runs.append([])
        if is_row:
            runs[-1].append(line)
        previous_was_row = is_row
    assert runs
    for run in runs:
        assert len(run) >= 3 and re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", run[1]), f"a table without its header: {run[0]}"


def _button_patterns() -> list[re.Pattern]:
    patterns = []
    for entry in TEXTS.values():
        for template in entry.values():
            parts = re.split(r"\{[a-z_0-9]+\}", template)
            patterns.append(re.compile(".+".join(re.escape(p) for p in parts)))
    return patterns


def test_sample_buttons_are_the_bots_labels():
    sample = _section("A sample morning")
    labels = re.findall(r"\[([^\]\n]+)\]", "\n".join(l for l in sample.splitlines() if l.strip().startswith("[")))
    assert labels, "the sample shows buttons"
    patterns = _button_patterns()
    for label in labels:
        assert any(p.fullmatch(label) for p in patterns), f"[{label}] is not a label the bot uses"


def test_every_command_is_listed():
    commands = _section("Commands")
    registered = {c for h in all_handlers() if isinstance(h, CommandHandler) for c in h.commands}
    assert {"help", "cancel", "unbind", "dup"} <= registered
    missing = sorted(c for c in registered if f"`/{c}" not in commands and f"· `/{c}`" not in commands)
    assert not missing, f"commands the bot answers but the README does not list: {missing}"
