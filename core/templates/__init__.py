"""Industry playbook templates (issue 16): complete config.toml files for a new deployment.

``salesbot playbook init --template NAME`` validates one with the same schema as the running
bot (core.config) and writes it; it never overwrites an existing file.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from core.config import Config, ConfigError, _format_errors

TEMPLATE_DIR = Path(__file__).resolve().parent


def names() -> list[str]:
    return sorted(p.stem for p in TEMPLATE_DIR.glob("*.toml"))


def path_of(name_or_path: str) -> Path:
    """A shipped template by name, or a .toml file given by path."""
    if name_or_path.endswith(".toml") or "/" in name_or_path:
        return Path(name_or_path)
    return TEMPLATE_DIR / f"{name_or_path}.toml"


def load(name_or_path: str) -> tuple[str, Config]:
    """The template's text and its validated playbook; ConfigError with a clear reason otherwise."""
    path = path_of(name_or_path)
    if not path.is_file():
        raise ConfigError(f"unknown template {name_or_path!r}; shipped templates: {', '.join(names())}")
    text = path.read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    if not raw:
        raise ConfigError(f"{path}: the template is empty (it needs at least [[stages]])")
    try:
        return text, Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_errors(path, exc, raw)) from None


def init(name_or_path: str, target: Path, team_name: str | None = None) -> Config:
    """Write a validated template to ``target``; refuses to overwrite (a running deployment reviews a draft)."""
    text, config = load(name_or_path)
    if target.exists():
        raise FileExistsError(str(target))
    if team_name:
        if len(team_name) > 40 or any(ch in team_name for ch in '"\\\n'):
            raise ConfigError("--team: expected a team name of at most 40 characters without quotes or backslashes")
        text = text.replace(f'name = "{config.team.name}"', f'name = "{team_name}"', 1)
        config = Config.model_validate(tomllib.loads(text))
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "x", encoding="utf-8") as out:  # "x": fails if it appeared meanwhile
        out.write(text)
    return config
